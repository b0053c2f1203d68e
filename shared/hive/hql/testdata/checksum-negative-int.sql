SELECT COUNT(*), COALESCE(SUM(HASH(`key`)), 0) FROM `default`.`srcpart` WHERE `ds` = '2008-04-08' AND `hr` = -1

INSERT OVERWRITE TABLE `default`.`hivemerge_tmp_srcpart_1` PARTITION (`ds`='2008-04-08', `hr`=11) SELECT `key`, `value` FROM `default`.`srcpart` WHERE `ds` = '2008-04-08' AND `hr` = 11

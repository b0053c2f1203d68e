INSERT OVERWRITE TABLE `default`.`hivemerge_tmp_srcpart_1` PARTITION (`ds`='2008-04-08', `hr`) SELECT `key`, `value`, `hr` FROM `default`.`srcpart` WHERE `ds` = '2008-04-08'

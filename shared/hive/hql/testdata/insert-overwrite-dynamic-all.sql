INSERT OVERWRITE TABLE `default`.`hivemerge_tmp_srcpart_1` PARTITION (`ds`, `hr`) SELECT `key`, `value`, `ds`, `hr` FROM `default`.`srcpart`

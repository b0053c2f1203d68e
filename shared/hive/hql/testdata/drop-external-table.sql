DROP TABLE IF EXISTS `default`.`hivemerge_tmp_srcpart_1`

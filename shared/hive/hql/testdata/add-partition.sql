ALTER TABLE `default`.`hivemerge_tmp_srcpart_1` ADD PARTITION (`ds`='2008-04-08', `hr`=11)

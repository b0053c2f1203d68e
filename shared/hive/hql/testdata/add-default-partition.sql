ALTER TABLE `default`.`hivemerge_tmp_srcpart_1` ADD PARTITION (`ds`='2008-04-08', `hr`='__HIVE_DEFAULT_PARTITION__') LOCATION 'gs://bucket/w/.hivemerge-1/hr=__HIVE_DEFAULT_PARTITION__'

ALTER TABLE `default`.`hivemerge_tmp_srcpart_1` ADD PARTITION (`ds`='2008-04-08', `hr`=11) LOCATION 'hdfs://nn:8020/warehouse/srcpart/ds=2008-04-08/.hivemerge-1/hr=11'

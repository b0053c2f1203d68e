CREATE EXTERNAL TABLE `default`.`hivemerge_tmp_srcpart_1` LIKE `default`.`srcpart` LOCATION 'hdfs://nn:8020/warehouse/.hivemerge/srcpart/ds=2008-04-08/hr=11/1'

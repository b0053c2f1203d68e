ALTER TABLE `default`.`srcpart` PARTITION (`ds`='2008-04-08', `hr`=11) SET LOCATION 'hdfs://nn:8020/warehouse/.hivemerge/srcpart/ds=2008-04-08/hr=11/1'

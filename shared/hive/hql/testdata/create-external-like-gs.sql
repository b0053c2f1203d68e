CREATE EXTERNAL TABLE `default`.`hivemerge_tmp_srcpart_1` LIKE `default`.`srcpart` LOCATION 'gs://bucket/warehouse/tmp_1'

ALTER TABLE `default`.`srcpart` SET TBLPROPERTIES ('comment'='merged\tby \'hivemerge\'\n', 'hivemerge.backup'='hdfs://nn/warehouse/.hivemerge/b1')

SHOW PARTITIONS `default`.`srcpart` PARTITION (`hr`=11)

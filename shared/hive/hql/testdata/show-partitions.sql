SHOW PARTITIONS `default`.`srcpart`

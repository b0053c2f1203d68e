DESCRIBE FORMATTED `default`.`srcpart`

DESCRIBE FORMATTED `default`.`srcpart` PARTITION (`ds`='2008-04-08', `hr`=11)

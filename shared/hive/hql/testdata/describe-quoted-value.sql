DESCRIBE FORMATTED `default`.`srcpart` PARTITION (`ds`='it\'s a \"test\" \\ ok', `hr`=0)

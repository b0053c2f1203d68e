MSCK REPAIR TABLE `default`.`srcpart`

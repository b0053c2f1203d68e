ALTER TABLE `sales`.`orders` COMPACT 'major'

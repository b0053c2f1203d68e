INSERT OVERWRITE TABLE `sales`.`orders` SELECT `id`, `amount` FROM `sales`.`orders`

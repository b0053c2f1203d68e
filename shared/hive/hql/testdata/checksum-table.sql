SELECT COUNT(*), COALESCE(SUM(HASH(`id`, `amount`)), 0) FROM `sales`.`orders`

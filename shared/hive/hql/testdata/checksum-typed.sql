SELECT COUNT(*), COALESCE(SUM(HASH(`id`)), 0) FROM `sales`.`orders` WHERE `d` = '2024-02-29' AND `ts` = '2024-01-01 10:00:00.5' AND `n` = -9000000000 AND `v` = 'x' AND `b` = true AND `m` = 1.50

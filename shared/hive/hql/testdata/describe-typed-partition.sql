DESCRIBE FORMATTED `sales`.`orders` PARTITION (`d`='2024-02-29', `ts`='2024-01-01 10:00:00.5', `n`='-9000000000', `v`='x', `b`=true, `m`=1.50)

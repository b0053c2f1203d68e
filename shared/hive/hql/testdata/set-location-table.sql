ALTER TABLE `sales`.`orders` SET LOCATION 'viewfs://cluster/warehouse/orders_merged'

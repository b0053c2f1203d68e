USE `sales`

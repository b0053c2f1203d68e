ANALYZE TABLE `default`.`srcpart` PARTITION (`ds`, `hr`) COMPUTE STATISTICS

SHOW TBLPROPERTIES `default`.`srcpart`('transactional')

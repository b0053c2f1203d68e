SHOW TBLPROPERTIES `default`.`srcpart`

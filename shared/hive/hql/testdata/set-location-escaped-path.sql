ALTER TABLE `default`.`srcpart` PARTITION (`ds`='2008-04-08', `hr`=11) SET LOCATION 'file:/tmp/warehouse/sc_part/ts=2011-01-11+14%3A18%3A26'

SET hive.merge.tezfiles=true

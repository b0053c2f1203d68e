SET hive.tez.java.opts=-Xmx4096m -XX:+UseG1GC

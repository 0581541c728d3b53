-- Statistics for the freshly filled staging table, so the planner probes the product table's indexes per
-- staged row (load_move.sql, load_merge.sql) instead of scanning every partition.
ANALYZE {stage}

-- The 'cdr.load_merge' lock of load_lock.sql, taken only if it is free right now: a load that writes its rows
-- straight into the product table holds it from its first row, so it must not queue behind another load's
-- merge; when it is taken, the load stages and merges instead (load_batch_classify.sql).
SELECT pg_try_advisory_xact_lock(hashtext(%(scope)s), hashtext(%(key)s))

-- The loads of one DAG run (the newest run of the DAG that loaded the window), summed per product.
-- Params: dag_id, mode, window_start (NULL: any window), dag_id again.
WITH latest AS (
    SELECT run_id
    FROM cdr.load_ledger
    WHERE dag_id = %(dag_id)s
      AND mode = %(mode)s
      AND (%(window_start)s::timestamptz IS NULL OR window_start = %(window_start)s::timestamptz)
    ORDER BY load_id DESC
    LIMIT 1
)
SELECT product,
       count(*) AS loads,
       sum(rows_read) AS rows_read,
       sum(rows_inserted) AS rows_inserted,
       sum(rows_updated) AS rows_updated,
       sum(rows_unchanged) AS rows_unchanged,
       sum(rows_quarantined) AS rows_quarantined,
       sum(cdrs_billed) AS cdrs_billed
FROM cdr.load_ledger
WHERE dag_id = %(dag_id)s
  AND run_id = (SELECT run_id FROM latest)
GROUP BY product
ORDER BY product;

-- One row per record id in the file: when an id occurs more than once, its LAST occurrence in file order
-- (_ord; ZIP members are read in name order) is kept and the others are deleted. The statement's row count is
-- the number of duplicates, recorded in cdr.load_ledger.rows_duplicate.
DELETE FROM {stage} AS s
USING (
    SELECT _ord, row_number() OVER (PARTITION BY {record_id} ORDER BY _ord DESC) AS occurrence
    FROM {stage}
) AS d
WHERE d._ord = s._ord AND d.occurrence > 1

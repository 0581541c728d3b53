-- Temporary tables of a load that streams its rows (gone at COMMIT or ROLLBACK; temporary tables write no
-- WAL):
-- {keys}:    record id and event time of every row of the file, for the checks of load_check_*.sql; with
--            the compare strategy also each row's fingerprint and row number in the file (load_classify.sql);
-- {flagged}: the row numbers whose fingerprint differs from the stored row's (new or changed records);
-- {changed}: the flagged rows in full, read again from the file and merged (load_merge.sql).
CREATE TEMP TABLE {keys} (
    {record_id} text NOT NULL, event_time timestamptz NOT NULL, _row_hash bytea, _ord bigint
) ON COMMIT DROP;
CREATE TEMP TABLE {flagged} (_ord bigint NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE {changed} (LIKE {target} INCLUDING DEFAULTS) ON COMMIT DROP

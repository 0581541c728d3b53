-- Temporary tables of a load that streams its rows batch by batch (gone at COMMIT or ROLLBACK; temporary
-- tables write no WAL):
-- {batch_keys}: the current batch's record ids, event times, row fingerprints and row numbers in the file,
--               compared and emptied again (load_batch_classify.sql);
-- {flagged}:   the row numbers whose fingerprint differs from the stored row's (new or changed records);
-- {keys}:      (record id, event time) of every row of the file, for the checks of load_check_*.sql;
-- {changed}:   the flagged rows in full, read again from the file and merged (load_merge.sql).
CREATE TEMP TABLE {batch_keys} (
    {record_id} text NOT NULL, event_time timestamptz NOT NULL, _row_hash bytea NOT NULL, _ord bigint NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE {flagged} (_ord bigint NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE {keys} ({record_id} text NOT NULL, event_time timestamptz NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE {changed} (LIKE {target} INCLUDING DEFAULTS) ON COMMIT DROP

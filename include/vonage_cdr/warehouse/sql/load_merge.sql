-- Merge the staged rows (one per record id, see load_stage_dedupe.sql) into the product table, writing only
-- what changed:
-- * new records are inserted; a record moved by load_move.sql is inserted at its new event time with its
--   _first_loaded_at and, for the columns this file did not carry, its stored values (from {moved});
-- * a record already stored under the same (id, event_time) is updated ONLY when one of the columns the file
--   CARRIED, or extras, differs (IS DISTINCT FROM: NULL-safe). Columns the file did not carry are neither
--   compared nor written: an absent column is unknown, and the stored value stays. _last_changed_at moves
--   only on real changes. Unchanged rows never get here (load_batch_classify.sql, load_stage_unchanged.sql
--   drop them first): ON CONFLICT DO UPDATE locks every conflicting row, writing a WAL record for each,
--   before its WHERE can reject it;
-- * extras are merged key by key (stored || new): a key the file did not send keeps its stored value;
-- * _first_loaded_at is never touched by the update, so it tells inserted from updated rows in RETURNING
--   (a partitioned table cannot return xmax): it equals now() exactly when this transaction inserted it.
--   Moved rows keep their old _first_loaded_at and therefore count as updated.
-- * _row_hash, the row's fingerprint (load_batch_classify.sql), is the file row's when the stored row IS the
--   file row: always for a new record; for an updated or moved one when the columns the file did not carry
--   are NULL in it too ({target_absent_null} / {moved_absent_null}) and the merged extras equal the file's.
--   Otherwise it is NULL: unknown, and the next load compares that row in full.
-- The brace placeholders are quoted identifier lists built from the product registry by warehouse/load.py:
-- {columns} every registry column, {values} s.<column> for a carried column and m.<column> for an absent
-- one, {assignments} / {target_compared} / {excluded_compared} the carried columns except the record id;
-- {target_absent_null} / {moved_absent_null}: "t.<absent> IS NULL AND ..." (true when nothing is absent).
WITH moved AS (
    SELECT DISTINCT ON ({record_id}) *
    FROM {moved}
    ORDER BY {record_id}, _last_changed_at DESC
), merged AS (
    INSERT INTO {target} AS t (
        {columns}, event_time, extras, _source, _load_id, _first_loaded_at, _last_changed_at, _row_hash
    )
    SELECT {values}, s.event_time, coalesce(m.extras, '{{}}'::jsonb) || s.extras, %(source)s, %(load_id)s,
           coalesce(m._first_loaded_at, now()), now(),
           CASE WHEN m.{record_id} IS NULL OR ({moved_absent_null} AND m.extras || s.extras = s.extras)
                THEN s._row_hash END
    FROM {stage} AS s
    LEFT JOIN moved AS m ON m.{record_id} = s.{record_id}
    ON CONFLICT ({record_id}, event_time) DO UPDATE SET
        {assignments},
        extras = t.extras || EXCLUDED.extras,
        _source = EXCLUDED._source,
        _load_id = EXCLUDED._load_id,
        _last_changed_at = now(),
        _row_hash = CASE WHEN {target_absent_null} AND t.extras || EXCLUDED.extras = EXCLUDED.extras
                         THEN EXCLUDED._row_hash END
    WHERE ({target_compared}, t.extras) IS DISTINCT FROM ({excluded_compared}, t.extras || EXCLUDED.extras)
    RETURNING t._first_loaded_at = now() AS inserted
)
SELECT
    count(*) FILTER (WHERE inserted) AS rows_inserted,
    count(*) FILTER (WHERE NOT inserted) AS rows_updated
FROM merged

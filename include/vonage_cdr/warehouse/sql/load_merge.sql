-- Merge the staged rows (one per record id, see load_stage_dedupe.sql) into the product table, writing only
-- what changed:
-- * new records are inserted; a record moved by load_move.sql is inserted at its new event time with its
--   _first_loaded_at and, for the columns this file did not carry, its stored values (from {moved});
-- * a record already stored under the same (id, event_time) is updated ONLY when one of the columns the file
--   CARRIED, or extras, differs (IS DISTINCT FROM: NULL-safe). Columns the file did not carry are neither
--   compared nor written: an absent column is unknown, and the stored value stays. So a reload of an
--   unchanged file rewrites nothing (no dead tuples, no WAL) and _last_changed_at moves only on real changes;
-- * extras are merged key by key (stored || new): a key the file did not send keeps its stored value;
-- * _first_loaded_at is never touched by the update, so it tells inserted from updated rows in RETURNING
--   (a partitioned table cannot return xmax): it equals now() exactly when this transaction inserted it.
--   Moved rows keep their old _first_loaded_at and therefore count as updated.
-- The brace placeholders are quoted identifier lists built from the product registry by warehouse/load.py:
-- {columns} every registry column, {values} s.<column> for a carried column and m.<column> for an absent
-- one, {assignments} / {target_compared} / {excluded_compared} the carried columns except the record id.
WITH moved AS (
    SELECT DISTINCT ON ({record_id}) *
    FROM {moved}
    ORDER BY {record_id}, _last_changed_at DESC
), merged AS (
    INSERT INTO {target} AS t ({columns}, event_time, extras, _source, _load_id, _first_loaded_at, _last_changed_at)
    SELECT {values}, s.event_time, coalesce(m.extras, '{{}}'::jsonb) || s.extras, %(source)s, %(load_id)s,
           coalesce(m._first_loaded_at, now()), now()
    FROM {stage} AS s
    LEFT JOIN moved AS m ON m.{record_id} = s.{record_id}
    ON CONFLICT ({record_id}, event_time) DO UPDATE SET
        {assignments},
        extras = t.extras || EXCLUDED.extras,
        _source = EXCLUDED._source,
        _load_id = EXCLUDED._load_id,
        _last_changed_at = now()
    WHERE ({target_compared}, t.extras) IS DISTINCT FROM ({excluded_compared}, t.extras || EXCLUDED.extras)
    RETURNING t._first_loaded_at = now() AS inserted
)
SELECT
    count(*) FILTER (WHERE inserted) AS rows_inserted,
    count(*) FILTER (WHERE NOT inserted) AS rows_updated
FROM merged

-- Merge the staged rows into the product table, writing only what changed.
-- * one row per record id: the last occurrence in the file wins (DISTINCT ON ... ORDER BY _ord DESC);
-- * new keys are inserted; existing keys are updated ONLY when a data column or extras differ
--   (IS DISTINCT FROM: NULL-safe), so a reload of an unchanged file rewrites nothing (no dead tuples,
--   no WAL) and _last_changed_at moves only on rows whose values really changed;
-- * _first_loaded_at is never touched by the update, so it tells inserted from updated rows in RETURNING
--   (a partitioned table cannot return xmax): it equals now() exactly when this transaction inserted it.
-- The brace placeholders are quoted identifier lists built from the product registry by warehouse/load.py.
WITH src AS (
    SELECT DISTINCT ON ({record_id}) {columns}, event_time, extras
    FROM {stage}
    ORDER BY {record_id}, _ord DESC
), merged AS (
    INSERT INTO {target} AS t ({columns}, event_time, extras, _source, _load_id, _first_loaded_at, _last_changed_at)
    SELECT {columns}, event_time, extras, %(source)s, %(load_id)s, now(), now()
    FROM src
    ON CONFLICT ({record_id}, event_time) DO UPDATE SET
        {assignments},
        extras = EXCLUDED.extras,
        _source = EXCLUDED._source,
        _load_id = EXCLUDED._load_id,
        _last_changed_at = now()
    WHERE ({target_compared}, t.extras) IS DISTINCT FROM ({excluded_compared}, EXCLUDED.extras)
    RETURNING t._first_loaded_at = now() AS inserted
)
SELECT
    (SELECT count(*) FROM src) AS rows_loaded,
    count(*) FILTER (WHERE inserted) AS rows_inserted,
    count(*) FILTER (WHERE NOT inserted) AS rows_updated
FROM merged

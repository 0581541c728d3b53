-- Stored rows equal to the staged ones in every column but whose fingerprint is missing or stale (loaded
-- before fingerprints existed, or by an older encoder): store the fingerprint, so the next reload of the
-- same values skips them without reading them in full. Values are not changed and the rows count as
-- unchanged; this rewrites each such row once. Only run when the file carries every column (otherwise the
-- stored row is not the file's row and its fingerprint stays unknown).
UPDATE {target} AS t
SET _row_hash = s._row_hash
FROM {stage} AS s
WHERE t.{record_id} = s.{record_id}
  AND t.event_time = s.event_time
  AND t._row_hash IS DISTINCT FROM s._row_hash
  AND ({target_compared}) IS NOT DISTINCT FROM ({stage_compared})
  AND t.extras = s.extras

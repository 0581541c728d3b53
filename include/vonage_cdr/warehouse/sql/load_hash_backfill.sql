-- Stored rows equal to the staged ones in every column but whose fingerprint is missing or stale (loaded
-- before fingerprints existed, or by an older encoder): store the fingerprint, so the next reload of the
-- same values skips them without reading them in full. Values are not changed and the rows count as
-- unchanged; this rewrites each such row once. Every column is compared, those the file did not carry
-- included (NULL in staging): only a stored row that IS the file's row gets the file row's fingerprint.
UPDATE {target} AS t
SET _row_hash = s._row_hash
FROM {stage} AS s
WHERE t.{record_id} = s.{record_id}
  AND t.event_time = s.event_time
  AND t._row_hash IS DISTINCT FROM s._row_hash
  AND ({target_compared}) IS NOT DISTINCT FROM ({stage_compared})
  AND t.extras = s.extras

-- Drop from staging the rows equal to what is stored (see load_batch_classify.sql for "equal"), so the merge
-- touches only new and changed records: INSERT ... ON CONFLICT DO UPDATE locks every conflicting row before
-- its WHERE can reject it, which made a reload write a WAL record for every unchanged row. Staging is a
-- temporary table: this DELETE writes no WAL.
DELETE FROM {stage} AS s
USING {target} AS t
WHERE t.{record_id} = s.{record_id}
  AND t.event_time = s.event_time
  AND ({target_compared}) IS NOT DISTINCT FROM ({stage_compared})
  AND (s.extras = '{{}}'::jsonb OR t.extras || s.extras = t.extras)

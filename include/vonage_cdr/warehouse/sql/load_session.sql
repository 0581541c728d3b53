-- Settings for the load's transaction only (SET LOCAL semantics):
-- * work_mem: the duplicate check sorts every record id of the file and the merges hash the staged rows;
--   with the 4 MB default those spill to disk;
-- * jit off: the per-batch statements are planned again for every batch, and compiling them (hundreds of
--   milliseconds each) costs more than it saves on 32k rows.
SELECT set_config('work_mem', %(work_mem)s, true), set_config('jit', 'off', true)

-- Compare strategy: every record id at most once in the file. Built before the keys are COPYed, so a
-- repeated id fails the COPY right away; the load then rolls back to its savepoint and merges the whole file
-- (load_stage_dedupe.sql keeps the last occurrence and counts the others). The insert strategy needs no such
-- index: load_check_moved.sql finds a repeated id among the rows it inserted.
CREATE UNIQUE INDEX ON {keys} ({record_id})

-- The meta columns are set by the merge, not copied; _ord numbers the rows in file order so that the merge
-- keeps the LAST occurrence of a record id that appears more than once in one file.
ALTER TABLE {stage}
    ALTER COLUMN _source DROP NOT NULL,
    ALTER COLUMN _load_id DROP NOT NULL,
    ADD COLUMN _ord bigint GENERATED ALWAYS AS IDENTITY

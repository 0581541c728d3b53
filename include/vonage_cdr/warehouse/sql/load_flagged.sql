-- The flagged row numbers in file order: the rows read again from the file, in full, for the merge.
SELECT _ord FROM {flagged} ORDER BY _ord

-- Does any of these record ids (a sample of the file's first batch) already exist, under any event time?
-- No: the file is most likely new records, and its rows are COPYed straight into the product table (checked
-- afterwards by load_check_moved.sql). Yes: it is a reload, and its rows are compared first
-- (load_classify.sql). A wrong guess costs time, never correctness.
SELECT EXISTS (
    SELECT FROM unnest(%(ids)s::text[]) AS i(id)
    WHERE EXISTS (SELECT FROM {target} AS t WHERE t.{record_id} = i.id)
)

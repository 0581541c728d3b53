-- Remember the batch's (record id, event time) for the whole-file checks, then empty the batch table.
INSERT INTO {keys} SELECT {record_id}, event_time FROM {batch_keys};
TRUNCATE {batch_keys}

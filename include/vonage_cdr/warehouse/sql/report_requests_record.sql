-- Remember a report the moment Vonage accepted it (or the moment a lost one was found in the list).
INSERT INTO cdr.report_requests (
    request_id, fingerprint, product, account_id, direction, date_start, date_end, request_params,
    found_by, receive_time, dag_id, run_id, task_id, try_number
) VALUES (
    %(request_id)s, %(fingerprint)s, %(product)s, %(account_id)s, %(direction)s, %(date_start)s,
    %(date_end)s, %(request_params)s, %(found_by)s, %(receive_time)s, %(dag_id)s, %(run_id)s,
    %(task_id)s, %(try_number)s
)
ON CONFLICT (request_id) DO NOTHING

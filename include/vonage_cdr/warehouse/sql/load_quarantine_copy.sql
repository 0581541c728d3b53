COPY cdr.quarantine (
    load_id, product, account_id, direction, window_start, window_end, source_file, line_number, reason, raw_line,
    raw_bytes
) FROM STDIN

-- Every stream's freshness, newest event and its lag now.
SELECT product,
       account_id,
       direction,
       mode,
       to_char(newest_event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS newest_event_utc,
       lag_seconds_now
FROM analytics.freshness
ORDER BY product, account_id, direction, mode;

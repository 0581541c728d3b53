-- How far behind each stream is: newest event loaded and its lag now.
SELECT product,
       account_id,
       direction,
       mode,
       newest_event_at,
       checked_at,
       lag_seconds_now
FROM analytics.freshness
ORDER BY product, account_id, direction, mode;

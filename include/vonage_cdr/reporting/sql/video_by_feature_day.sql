-- Video API minutes, events and cost per UTC day and feature (minutes from summed seconds).
SELECT usage_date,
       feature,
       currency,
       sum(event_count)::bigint AS event_count,
       round(sum(usage_seconds) / 60.0, 2) AS usage_minutes,
       analytics.round_money(sum(total_cost_exact), currency) AS total_cost
FROM analytics.video_usage_daily
WHERE usage_date BETWEEN %(first_day)s AND %(last_day)s
GROUP BY usage_date, feature, currency
ORDER BY usage_date, feature, currency;

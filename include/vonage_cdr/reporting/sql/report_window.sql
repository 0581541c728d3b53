-- Where the report's windows end: the last UTC day with usage, and the last day loads ran (the Reports API
-- charge is incurred when CDRs are retrieved, not when they happened). Ending at the data rather than at
-- today keeps a quiet or late day from hiding the days before it. NULL when nothing is loaded yet.
SELECT (SELECT max(usage_date) FROM analytics.billing_daily) AS last_usage_day,
       (SELECT max(load_date) FROM analytics.load_costs) AS last_load_day;

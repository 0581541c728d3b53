-- Headline figures of the report window, one row per currency.
SELECT currency,
       sum(cdr_count)::bigint AS cdr_count,
       analytics.round_money(sum(total_cost_exact), currency) AS total_cost
FROM analytics.billing_daily
WHERE usage_date BETWEEN %(first_day)s AND %(last_day)s
GROUP BY currency
ORDER BY sum(cdr_count) DESC, currency;

-- CDRs and cost per UTC day, product and currency over the report window.
SELECT usage_date,
       product,
       currency,
       sum(cdr_count)::bigint AS cdr_count,
       analytics.round_money(sum(total_cost_exact), currency) AS total_cost
FROM analytics.billing_daily
WHERE usage_date BETWEEN %(first_day)s AND %(last_day)s
GROUP BY usage_date, product, currency
ORDER BY usage_date, product, currency;

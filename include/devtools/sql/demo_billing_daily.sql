-- Customer billing for one UTC day, per account, product and currency.
SELECT account_id,
       product,
       currency,
       cdr_count,
       priced_cdr_count,
       total_cost
FROM analytics.billing_daily
WHERE usage_date = %(day)s::date
ORDER BY account_id, product, currency;

-- Delivery rate per UTC day and product, rolled up from the counts (never by averaging rates).
SELECT usage_date,
       product,
       sum(message_count)::bigint AS message_count,
       sum(delivered_count)::bigint AS delivered_count,
       sum(failed_count)::bigint AS failed_count,
       sum(pending_count + other_count)::bigint AS not_final_count,
       round(sum(delivered_count) / sum(message_count), 4) AS delivery_rate
FROM analytics.delivery_rates_daily
WHERE usage_date BETWEEN %(first_day)s AND %(last_day)s
GROUP BY usage_date, product
ORDER BY usage_date, product;

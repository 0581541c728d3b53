-- The countries with the highest spend in each currency over the report window (records of products
-- without a country, e.g. VIDEO-API, are not ranked).
WITH spend AS (
    SELECT country,
           currency,
           sum(cdr_count)::bigint AS cdr_count,
           sum(total_cost_exact) AS total_cost_exact
    FROM analytics.billing_by_country_daily
    WHERE usage_date BETWEEN %(first_day)s AND %(last_day)s
      AND total_cost_exact IS NOT NULL
      AND country IS NOT NULL
    GROUP BY 1, 2
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY currency ORDER BY total_cost_exact DESC, country) AS rank
    FROM spend
)
SELECT currency, rank, country, cdr_count, analytics.round_money(total_cost_exact, currency) AS total_cost
FROM ranked
WHERE rank <= %(top)s
ORDER BY currency, rank;

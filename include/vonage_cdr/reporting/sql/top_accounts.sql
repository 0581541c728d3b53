-- The accounts (and subaccounts) with the highest spend in each currency over the report window.
WITH spend AS (
    SELECT account_id,
           currency,
           sum(cdr_count)::bigint AS cdr_count,
           sum(total_cost_exact) AS total_cost_exact
    FROM analytics.billing_daily
    WHERE usage_date BETWEEN %(first_day)s AND %(last_day)s
      AND total_cost_exact IS NOT NULL
    GROUP BY 1, 2
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY currency ORDER BY total_cost_exact DESC, account_id) AS rank
    FROM spend
)
SELECT currency, rank, account_id, cdr_count, analytics.round_money(total_cost_exact, currency) AS total_cost
FROM ranked
WHERE rank <= %(top)s
ORDER BY currency, rank;

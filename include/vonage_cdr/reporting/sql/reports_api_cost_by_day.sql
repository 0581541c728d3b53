-- What retrieving CDRs through the Reports API cost per UTC day and product (load ledger x price).
SELECT load_date,
       product,
       currency,
       sum(cdrs_billed)::bigint AS cdrs_billed,
       analytics.round_money(sum(reports_api_cost_exact), currency) AS reports_api_cost
FROM analytics.load_costs
WHERE load_date BETWEEN %(first_load_day)s AND %(last_load_day)s
GROUP BY load_date, product, currency
ORDER BY load_date, product, currency;

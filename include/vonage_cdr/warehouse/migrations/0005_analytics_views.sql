-- Analyst views for the use cases of the Reports API overview (seed 000) and of Video API usage (seed 003):
-- customer billing, invoice reconciliation, delivery monitoring, video minutes; plus freshness and load costs.
-- Runs as the loader role; default privileges give the analyst role SELECT on each view.
-- Days, hours and months are UTC calendar periods.

CREATE VIEW analytics.reports_api_price AS
SELECT max(value) FILTER (WHERE name = 'reports_api_price_per_cdr')::numeric AS price_per_cdr,
       max(value) FILTER (WHERE name = 'reports_api_currency') AS currency
FROM cdr.settings;
COMMENT ON VIEW analytics.reports_api_price IS
    'Price Vonage charges per CDR retrieved through the Reports API (pay-as-you-go), from cdr.settings.';
COMMENT ON COLUMN analytics.reports_api_price.price_per_cdr IS 'Price of one retrieved CDR (default 0.0004).';
COMMENT ON COLUMN analytics.reports_api_price.currency IS 'Currency of price_per_cdr (default EUR).';

-- Customer billing ---------------------------------------------------------------------------------------
CREATE VIEW analytics.billing_daily AS
SELECT (event_time AT TIME ZONE 'UTC')::date AS usage_date,
       account_id,
       product,
       currency,
       count(*) AS cdr_count,
       count(price) AS priced_cdr_count,
       sum(price) AS total_cost
FROM analytics.cdr
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW analytics.billing_daily IS
    'Usage cost per UTC day, account (or subaccount: its API key), product and currency, for customer billing.';
COMMENT ON COLUMN analytics.billing_daily.usage_date IS 'UTC day of the records'' event time.';
COMMENT ON COLUMN analytics.billing_daily.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.billing_daily.product IS 'Reports API product.';
COMMENT ON COLUMN analytics.billing_daily.currency IS 'Currency of total_cost; NULL when Vonage gave none.';
COMMENT ON COLUMN analytics.billing_daily.cdr_count IS 'Number of records.';
COMMENT ON COLUMN analytics.billing_daily.priced_cdr_count IS 'Records that carry a price.';
COMMENT ON COLUMN analytics.billing_daily.total_cost IS 'Sum of the records'' total price (NULL: no price).';

CREATE VIEW analytics.billing_monthly AS
SELECT date_trunc('month', event_time AT TIME ZONE 'UTC')::date AS usage_month,
       account_id,
       product,
       currency,
       count(*) AS cdr_count,
       count(price) AS priced_cdr_count,
       sum(price) AS total_cost
FROM analytics.cdr
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW analytics.billing_monthly IS
    'Usage cost per UTC month, account (or subaccount), product and currency, for customer billing.';
COMMENT ON COLUMN analytics.billing_monthly.usage_month IS 'First day of the UTC month of the records.';
COMMENT ON COLUMN analytics.billing_monthly.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.billing_monthly.product IS 'Reports API product.';
COMMENT ON COLUMN analytics.billing_monthly.currency IS 'Currency of total_cost; NULL when Vonage gave none.';
COMMENT ON COLUMN analytics.billing_monthly.cdr_count IS 'Number of records.';
COMMENT ON COLUMN analytics.billing_monthly.priced_cdr_count IS 'Records that carry a price.';
COMMENT ON COLUMN analytics.billing_monthly.total_cost IS 'Sum of the records'' total price (NULL: no price).';

-- Invoice reconciliation ---------------------------------------------------------------------------------
CREATE VIEW analytics.invoice_reconciliation_monthly AS
WITH usage AS (
    SELECT date_trunc('month', event_time AT TIME ZONE 'UTC')::date AS invoice_month,
           product, currency, count(*) AS cdr_count, sum(price) AS total_cost
    FROM analytics.cdr
    GROUP BY 1, 2, 3
), retrieval AS (
    SELECT date_trunc('month', l.started_at AT TIME ZONE 'UTC')::date AS invoice_month,
           l.product, p.currency,
           sum(l.cdrs_billed) AS cdrs_billed,
           sum(l.cdrs_billed) * p.price_per_cdr AS cost
    FROM cdr.load_ledger AS l
    CROSS JOIN analytics.reports_api_price AS p
    GROUP BY 1, 2, 3, p.price_per_cdr
)
SELECT COALESCE(u.invoice_month, r.invoice_month) AS invoice_month,
       COALESCE(u.product, r.product) AS product,
       COALESCE(u.currency, r.currency) AS currency,
       COALESCE(u.cdr_count, 0) AS cdr_count,
       u.total_cost,
       COALESCE(r.cdrs_billed, 0) AS reports_api_cdrs_billed,
       COALESCE(r.cost, 0) AS reports_api_cost
FROM usage AS u
FULL JOIN retrieval AS r
    ON r.invoice_month = u.invoice_month AND r.product = u.product AND r.currency = u.currency;
COMMENT ON VIEW analytics.invoice_reconciliation_monthly IS
    'Monthly totals per product and currency to compare with the Vonage invoice: usage (from the CDRs) and '
    'the Reports API''s own charge for retrieving them (cdr.load_ledger.cdrs_billed x cdr.settings price), '
    'shown on the row of the Reports API price currency (EUR by default).';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.invoice_month IS
    'First day of the UTC month: of the records'' event time for usage, of the retrieval for the Reports API charge.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.product IS 'Reports API product.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.currency IS 'Currency of total_cost and reports_api_cost.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.cdr_count IS 'Records of the product in the month.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.total_cost IS 'Usage cost of those records.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.reports_api_cdrs_billed IS
    'CDRs of this product retrieved (and billed) through the Reports API in the month.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.reports_api_cost IS
    'reports_api_cdrs_billed x the per-CDR price in cdr.settings (Reports API pay-as-you-go charge).';

-- Delivery monitoring ------------------------------------------------------------------------------------
CREATE VIEW analytics.delivery_rates_hourly AS
WITH outbound AS (
    SELECT 'SMS'::text AS product, 'sms'::text AS channel, event_time, country, network, network_name, status
    FROM cdr.sms
    WHERE direction = 'outbound'
    UNION ALL
    SELECT 'MESSAGES', provider, event_time, country, network, network_name, status
    FROM cdr.messages
    WHERE direction = 'outbound'
), classified AS (
    SELECT o.*, c.outcome
    FROM outbound AS o
    LEFT JOIN cdr.delivery_status_class AS c ON c.product = o.product AND c.status = lower(o.status)
)
SELECT date_trunc('hour', event_time, 'UTC') AS hour_start,
       product,
       channel,
       country,
       network,
       max(network_name) AS network_name,
       count(*) AS message_count,
       count(*) FILTER (WHERE outcome = 'delivered') AS delivered_count,
       count(*) FILTER (WHERE outcome = 'failed') AS failed_count,
       count(*) FILTER (WHERE outcome = 'pending') AS pending_count,
       count(*) FILTER (WHERE outcome IS NULL) AS other_count,
       round((count(*) FILTER (WHERE outcome = 'delivered'))::numeric / count(*), 4) AS delivery_rate,
       round((count(*) FILTER (WHERE outcome = 'failed'))::numeric / count(*), 4) AS failure_rate
FROM classified
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW analytics.delivery_rates_hourly IS
    'Outbound SMS and Messages delivery per UTC hour, product, channel, country and network. Statuses are '
    'classified by cdr.delivery_status_class (SMS: delivered = delivered; failed = expired, failed, rejected, '
    'deleted; pending = accepted, buffered, submitted. Messages: delivered = delivered, read; failed = '
    'rejected, undeliverable; pending = submitted); any other status counts as other. Recent hours change '
    'for up to 72 hours as delivery receipts arrive.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.hour_start IS 'Start of the UTC hour the messages were sent.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.product IS 'SMS or MESSAGES.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.channel IS 'sms for SMS API; Messages API provider (whatsapp, sms, ...).';
COMMENT ON COLUMN analytics.delivery_rates_hourly.country IS 'Destination country code.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.network IS 'Destination network code (MCC+MNC).';
COMMENT ON COLUMN analytics.delivery_rates_hourly.network_name IS 'Destination network name.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.message_count IS 'Outbound messages (SMS: message parts).';
COMMENT ON COLUMN analytics.delivery_rates_hourly.delivered_count IS 'Messages with a delivered status.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.failed_count IS 'Messages with a failed status.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.pending_count IS 'Messages still without final status.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.other_count IS 'Messages with an unclassified status (e.g. unknown).';
COMMENT ON COLUMN analytics.delivery_rates_hourly.delivery_rate IS 'delivered_count / message_count (0..1).';
COMMENT ON COLUMN analytics.delivery_rates_hourly.failure_rate IS 'failed_count / message_count (0..1).';

-- Video API usage ----------------------------------------------------------------------------------------
CREATE VIEW analytics.video_minutes_by_session AS
SELECT account_id,
       application_id,
       session_id,
       min(date_start) AS first_event_at,
       max(date_end) AS last_event_at,
       count(DISTINCT NULLIF(meeting_id, '')) AS meeting_count,
       round(COALESCE(sum(duration) FILTER (WHERE lower(feature_name) = 'video session'), 0) / 60.0, 2)
           AS meeting_minutes,
       round(COALESCE(sum(duration) FILTER (WHERE lower(feature_name) = 'subscriber minutes'), 0) / 60.0, 2)
           AS subscriber_minutes,
       round(COALESCE(sum(duration) FILTER (WHERE lower(feature_name) = 'archiving'), 0) / 60.0, 2)
           AS archiving_minutes,
       round(COALESCE(sum(duration) FILTER (WHERE lower(feature_name) IN ('broadcasting', 'hls')), 0) / 60.0, 2)
           AS broadcasting_minutes,
       round(COALESCE(sum(duration) FILTER (WHERE lower(feature_name) = 'experience composer'), 0) / 60.0, 2)
           AS experience_composer_minutes,
       sum(total_price) AS total_cost,
       max(NULLIF(currency, '')) AS currency,
       count(DISTINCT NULLIF(currency, '')) > 1 AS mixed_currencies
FROM cdr.video_api
WHERE session_id <> ''
GROUP BY account_id, application_id, session_id;
COMMENT ON VIEW analytics.video_minutes_by_session IS
    'Video API minutes and cost per session (virtual room), by feature. Durations are the usage events'' '
    'duration in seconds / 60, rounded to 2 decimals. Vonage keeps Video records 90 days only.';
COMMENT ON COLUMN analytics.video_minutes_by_session.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.video_minutes_by_session.application_id IS 'Video application.';
COMMENT ON COLUMN analytics.video_minutes_by_session.session_id IS 'Video session.';
COMMENT ON COLUMN analytics.video_minutes_by_session.first_event_at IS 'Start of the first event (UTC).';
COMMENT ON COLUMN analytics.video_minutes_by_session.last_event_at IS 'End of the last event (UTC).';
COMMENT ON COLUMN analytics.video_minutes_by_session.meeting_count IS 'Distinct meetings held in the session.';
COMMENT ON COLUMN analytics.video_minutes_by_session.meeting_minutes IS 'Minutes of Video Session events.';
COMMENT ON COLUMN analytics.video_minutes_by_session.subscriber_minutes IS 'Minutes of Subscriber minutes events.';
COMMENT ON COLUMN analytics.video_minutes_by_session.archiving_minutes IS 'Minutes of Archiving events.';
COMMENT ON COLUMN analytics.video_minutes_by_session.broadcasting_minutes IS 'Minutes of Broadcasting and HLS events.';
COMMENT ON COLUMN analytics.video_minutes_by_session.experience_composer_minutes IS
    'Minutes of Experience composer events.';
COMMENT ON COLUMN analytics.video_minutes_by_session.total_cost IS 'Cost of all the session''s events.';
COMMENT ON COLUMN analytics.video_minutes_by_session.currency IS 'Currency of total_cost.';
COMMENT ON COLUMN analytics.video_minutes_by_session.mixed_currencies IS
    'True when the events carry several currencies (total_cost then mixes them; see cdr.video_api).';

CREATE VIEW analytics.video_minutes_by_meeting AS
WITH meetings AS (
    SELECT account_id, application_id, session_id, meeting_id,
           min(date_start) AS meeting_started_at,
           max(date_end) AS meeting_ended_at,
           sum(duration) AS meeting_seconds,
           sum(total_price) AS meeting_cost,
           max(NULLIF(currency, '')) AS currency
    FROM cdr.video_api
    WHERE lower(feature_name) = 'video session' AND meeting_id <> '' AND session_id <> ''
    GROUP BY account_id, application_id, session_id, meeting_id
)
SELECT m.account_id,
       m.application_id,
       m.session_id,
       m.meeting_id,
       m.meeting_started_at,
       m.meeting_ended_at,
       round(COALESCE(m.meeting_seconds, 0) / 60.0, 2) AS meeting_minutes,
       round(COALESCE(s.subscriber_seconds, 0) / 60.0, 2) AS subscriber_minutes,
       m.meeting_cost,
       m.currency
FROM meetings AS m
LEFT JOIN LATERAL (
    SELECT sum(v.duration) AS subscriber_seconds
    FROM cdr.video_api AS v
    WHERE lower(v.feature_name) = 'subscriber minutes'
      AND v.account_id = m.account_id
      AND v.session_id = m.session_id
      AND v.date_start >= m.meeting_started_at
      AND v.date_start < m.meeting_ended_at
) AS s ON true;
COMMENT ON VIEW analytics.video_minutes_by_meeting IS
    'Video API minutes per meeting (Video Session events). Subscriber minutes carry no meeting id, so they are '
    'attributed to the meeting of the same session during which they started.';
COMMENT ON COLUMN analytics.video_minutes_by_meeting.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.video_minutes_by_meeting.application_id IS 'Video application.';
COMMENT ON COLUMN analytics.video_minutes_by_meeting.session_id IS 'Video session the meeting belongs to.';
COMMENT ON COLUMN analytics.video_minutes_by_meeting.meeting_id IS 'Meeting.';
COMMENT ON COLUMN analytics.video_minutes_by_meeting.meeting_started_at IS 'Meeting start (UTC).';
COMMENT ON COLUMN analytics.video_minutes_by_meeting.meeting_ended_at IS 'Meeting end (UTC).';
COMMENT ON COLUMN analytics.video_minutes_by_meeting.meeting_minutes IS 'Meeting length in minutes.';
COMMENT ON COLUMN analytics.video_minutes_by_meeting.subscriber_minutes IS
    'Subscriber minutes that started during the meeting.';
COMMENT ON COLUMN analytics.video_minutes_by_meeting.meeting_cost IS 'Cost of the Video Session events.';
COMMENT ON COLUMN analytics.video_minutes_by_meeting.currency IS 'Currency of meeting_cost.';

-- Operations ---------------------------------------------------------------------------------------------
CREATE VIEW analytics.freshness AS
SELECT product,
       account_id,
       direction,
       mode,
       newest_event_at,
       checked_at,
       lag_seconds AS lag_seconds_at_check,
       round(extract(epoch FROM now() - newest_event_at), 0) AS lag_seconds_now,
       now() - newest_event_at AS lag_now
FROM cdr.freshness;
COMMENT ON VIEW analytics.freshness IS
    'How fresh each stream is: the newest event loaded and how far behind now() that is. The daily load '
    '(mode async) runs after a settlement delay; the incremental load (mode sync) every 5 minutes.';
COMMENT ON COLUMN analytics.freshness.product IS 'Reports API product.';
COMMENT ON COLUMN analytics.freshness.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.freshness.direction IS 'inbound/outbound, or empty.';
COMMENT ON COLUMN analytics.freshness.mode IS 'async (daily) or sync (incremental).';
COMMENT ON COLUMN analytics.freshness.newest_event_at IS 'Newest event time loaded (UTC).';
COMMENT ON COLUMN analytics.freshness.checked_at IS 'When the last load recorded it.';
COMMENT ON COLUMN analytics.freshness.lag_seconds_at_check IS 'Lag in seconds when the last load recorded it.';
COMMENT ON COLUMN analytics.freshness.lag_seconds_now IS 'Seconds between newest_event_at and now (live).';
COMMENT ON COLUMN analytics.freshness.lag_now IS 'Interval between newest_event_at and now (live).';

CREATE VIEW analytics.load_costs AS
SELECT (l.started_at AT TIME ZONE 'UTC')::date AS load_date,
       l.product,
       l.mode,
       count(*) AS load_count,
       sum(l.rows_read) AS rows_read,
       sum(l.rows_loaded) AS rows_loaded,
       sum(l.rows_quarantined) AS rows_quarantined,
       sum(l.cdrs_billed) AS cdrs_billed,
       sum(l.cdrs_billed) * p.price_per_cdr AS reports_api_cost,
       p.currency
FROM cdr.load_ledger AS l
CROSS JOIN analytics.reports_api_price AS p
GROUP BY 1, 2, 3, p.price_per_cdr, p.currency;
COMMENT ON VIEW analytics.load_costs IS
    'What the loads retrieved and what that cost at the Reports API per-CDR price, per UTC day, product and mode.';
COMMENT ON COLUMN analytics.load_costs.load_date IS 'UTC day the loads started.';
COMMENT ON COLUMN analytics.load_costs.product IS 'Reports API product.';
COMMENT ON COLUMN analytics.load_costs.mode IS 'async (daily report) or sync (incremental records).';
COMMENT ON COLUMN analytics.load_costs.load_count IS 'Number of loads.';
COMMENT ON COLUMN analytics.load_costs.rows_read IS 'Records read.';
COMMENT ON COLUMN analytics.load_costs.rows_loaded IS 'Records written or confirmed unchanged.';
COMMENT ON COLUMN analytics.load_costs.rows_quarantined IS 'Records quarantined.';
COMMENT ON COLUMN analytics.load_costs.cdrs_billed IS 'CDRs the Reports API billed.';
COMMENT ON COLUMN analytics.load_costs.reports_api_cost IS 'cdrs_billed x price per CDR.';
COMMENT ON COLUMN analytics.load_costs.currency IS 'Currency of reports_api_cost.';

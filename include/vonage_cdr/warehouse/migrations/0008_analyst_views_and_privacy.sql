-- migrate:run-as-connecting-user
-- Analyst views that give right answers at every grain, money rounded to each currency's minor unit, Video
-- API usage built from what the events mean, and message privacy by default.
--
-- Runs as the connecting user (an administrator) for two steps only: creating the PII analyst role and
-- changing the default privileges of whichever roles grant analysts SELECT on new tables in schema cdr.
-- Everything else runs as the owner of schema cdr (SET LOCAL ROLE below), so the owner of the warehouse
-- keeps owning every object whoever that is. {{analyst_role}} / {{analyst_pii_role}} are substituted by
-- the runner as quoted identifiers, {{..._literal}} as quoted string literals.
--
-- Privacy model (see docs/data-dictionary.md, Access):
-- * the analyst role reads every table of schema cdr through the table itself, never through a monthly
--   partition, and reads the columns listed in cdr.restricted_column (message bodies, quarantined raw
--   lines) not at all;
-- * the PII analyst role is a member of the analyst role and may also read the restricted columns;
-- * new monthly partitions get no grant at all (default privileges in schema cdr no longer grant analysts
--   anything), so a partition created at run time never exposes a restricted column. Querying the
--   partitioned table checks privileges on that table only, and partition pruning still applies.
-- * A later migration that adds a table or a column to schema cdr calls
--   cdr.apply_analyst_privileges({{analyst_role_literal}}, {{analyst_pii_role_literal}}) again.

-- 1. The PII analyst role (an administrator's job, like the roles of the first migration) ----------------
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {{analyst_pii_role_literal}}) THEN
        BEGIN
            CREATE ROLE {{analyst_pii_role}} NOLOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'migration 0008 creates role %, which needs an administrator',
                {{analyst_pii_role_literal}}
                USING HINT = 'Run `make migrate` once as a superuser or a role with CREATEROLE.';
        END;
    END IF;
    IF NOT pg_catalog.pg_has_role({{analyst_pii_role_literal}}, {{analyst_role_literal}}, 'MEMBER') THEN
        GRANT {{analyst_role}} TO {{analyst_pii_role}};
    END IF;
END
$roles$;

-- 2. New tables and partitions in schema cdr are no longer readable by analysts by default -------------------
-- Whoever creates them (the loader today, another owner role later, the partition function's owner).
DO $defaults$
DECLARE
    grantor text;
BEGIN
    FOR grantor IN
        SELECT DISTINCT pg_catalog.pg_get_userbyid(d.defaclrole)
        FROM pg_catalog.pg_default_acl AS d
        WHERE d.defaclobjtype = 'r'
          AND (d.defaclnamespace = 'cdr'::regnamespace OR d.defaclnamespace = 0)
    LOOP
        EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA cdr REVOKE ALL ON TABLES FROM %I, %I',
                       grantor, {{analyst_role_literal}}, {{analyst_pii_role_literal}});
        EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I REVOKE ALL ON TABLES FROM %I, %I',
                       grantor, {{analyst_role_literal}}, {{analyst_pii_role_literal}});
    END LOOP;
END
$defaults$;

-- From here on, act as the owner of schema cdr so it owns what follows.
DO $owner$
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', (SELECT pg_catalog.pg_get_userbyid(nspowner)
                                         FROM pg_catalog.pg_namespace WHERE nspname = 'cdr'));
END
$owner$;

-- 3. Restricted columns and the function that applies the analyst privileges ---------------------------------
CREATE TABLE cdr.restricted_column (
    table_name text NOT NULL,
    column_name text NOT NULL,
    reason text NOT NULL,
    PRIMARY KEY (table_name, column_name)
);
INSERT INTO cdr.restricted_column (table_name, column_name, reason) VALUES
    ('sms', 'message_body', 'Text of a person''s SMS (personal data).'),
    ('messages', 'message_body', 'Text of a person''s message (personal data).'),
    ('quarantine', 'raw_line', 'The record exactly as received, message text included.'),
    ('quarantine', 'raw_bytes', 'The record''s exact bytes as received, message text included.');
COMMENT ON TABLE cdr.restricted_column IS
    'Columns of schema cdr that the analyst role cannot read (only the PII analyst role can), and why.';
COMMENT ON COLUMN cdr.restricted_column.table_name IS 'Table in schema cdr.';
COMMENT ON COLUMN cdr.restricted_column.column_name IS 'Restricted column of that table.';
COMMENT ON COLUMN cdr.restricted_column.reason IS 'Why it is restricted.';

-- Grants the analyst role SELECT on every table of schema cdr (column by column where some columns are
-- restricted), the PII role SELECT on the restricted columns, and neither anything on a partition.
-- Idempotent; a migration that adds a table or a column to schema cdr calls it again.
CREATE FUNCTION cdr.apply_analyst_privileges(p_analyst text, p_pii text) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    rel record;
    open_columns text;
    closed_columns text;
    touched integer := 0;
BEGIN
    FOR rel IN
        SELECT c.oid, c.relname, c.relispartition
        FROM pg_class AS c
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = 'cdr' AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
    LOOP
        -- Revoking the table privilege also revokes its column privileges: a clean start every time.
        EXECUTE format('REVOKE ALL ON cdr.%I FROM %I, %I', rel.relname, p_analyst, p_pii);
        touched := touched + 1;
        CONTINUE WHEN rel.relispartition;
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                   FILTER (WHERE r.column_name IS NULL),
               string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                   FILTER (WHERE r.column_name IS NOT NULL)
        INTO open_columns, closed_columns
        FROM pg_attribute AS a
        LEFT JOIN cdr.restricted_column AS r ON r.table_name = rel.relname AND r.column_name = a.attname
        WHERE a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped;
        IF closed_columns IS NULL THEN
            EXECUTE format('GRANT SELECT ON cdr.%I TO %I', rel.relname, p_analyst);
        ELSE
            EXECUTE format('GRANT SELECT (%s) ON cdr.%I TO %I', open_columns, rel.relname, p_analyst);
            EXECUTE format('GRANT SELECT (%s) ON cdr.%I TO %I', closed_columns, rel.relname, p_pii);
        END IF;
    END LOOP;
    RETURN touched;
END
$fn$;
REVOKE EXECUTE ON FUNCTION cdr.apply_analyst_privileges(text, text) FROM PUBLIC;
COMMENT ON FUNCTION cdr.apply_analyst_privileges(text, text) IS
    'Re-applies the analyst privileges on schema cdr: SELECT on every table except the columns in '
    'cdr.restricted_column (those go to the PII role), nothing on partitions. Run by the migrations.';

-- 4. Money scales and the account's billing currency --------------------------------------------------------
-- ISO 4217 minor units of the currencies that do not use 2 decimals; every other code uses 2.
CREATE TABLE cdr.currency_minor_units (
    currency text PRIMARY KEY CHECK (currency ~ '^[A-Z]{3}$'),
    minor_units smallint NOT NULL CHECK (minor_units BETWEEN 0 AND 4)
);
INSERT INTO cdr.currency_minor_units (currency, minor_units) VALUES
    ('BIF', 0), ('CLP', 0), ('DJF', 0), ('GNF', 0), ('ISK', 0), ('JPY', 0), ('KMF', 0), ('KRW', 0),
    ('PYG', 0), ('RWF', 0), ('UGX', 0), ('UYI', 0), ('VND', 0), ('VUV', 0), ('XAF', 0), ('XOF', 0),
    ('XPF', 0),
    ('BHD', 3), ('IQD', 3), ('JOD', 3), ('KWD', 3), ('LYD', 3), ('OMR', 3), ('TND', 3),
    ('CLF', 4), ('UYW', 4);
COMMENT ON TABLE cdr.currency_minor_units IS
    'Decimals of each currency''s minor unit (ISO 4217) where it is not 2, e.g. JPY 0, KWD 3; every other '
    'currency is rounded to 2 decimals. The analytics views round money columns with it.';
COMMENT ON COLUMN cdr.currency_minor_units.currency IS 'ISO 4217 currency code.';
COMMENT ON COLUMN cdr.currency_minor_units.minor_units IS 'Decimals money in this currency is rounded to.';

INSERT INTO cdr.settings (name, value, description) VALUES
    ('billing_currency', 'EUR',
     'Currency Vonage invoices the account in. Records whose currency column is empty (e.g. NUMBER-INSIGHT, '
     'inbound SMS) are priced in it; the views count such records as assumed_currency_cdr_count.')
ON CONFLICT (name) DO NOTHING;
-- The description 0002 stored pointed at a document outside the repository; say where the price comes from.
UPDATE cdr.settings
SET description = 'Pay-as-you-go price of one CDR retrieved from the Reports API (0.0004 EUR per CDR: '
                  'docs/vonage-reports-api.md, Pricing). Change it for another plan.'
WHERE name = 'reports_api_price_per_cdr';

CREATE FUNCTION analytics.round_money(amount numeric, currency_code text) RETURNS numeric
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $fn$
    SELECT round(amount, COALESCE(
        (SELECT m.minor_units::integer FROM cdr.currency_minor_units AS m WHERE m.currency = upper(currency_code)),
        2))
$fn$;
REVOKE EXECUTE ON FUNCTION analytics.round_money(numeric, text) FROM PUBLIC;
COMMENT ON FUNCTION analytics.round_money(numeric, text) IS
    'amount rounded to the minor unit of currency_code (cdr.currency_minor_units; 2 decimals otherwise). Use it '
    'after summing the *_exact columns: round(sum), never sum(round).';

-- 5. Video API features: what each event means and how it is measured ----------------------------------------
CREATE TABLE cdr.video_feature (
    feature_key text PRIMARY KEY,
    feature text NOT NULL UNIQUE,
    measure text NOT NULL CHECK (measure IN ('minutes', 'events')),
    description text NOT NULL
);
INSERT INTO cdr.video_feature (feature_key, feature, measure, description) VALUES
    ('video session', 'video_session', 'events',
     'A meeting started in a session (a new one each time an empty session is joined again). No duration '
     'and no cost: it counts meetings, its minutes come from the other features.'),
    ('subscriber minutes', 'subscriber_minutes', 'minutes',
     'Time one subscriber was connected to a session: the main billable Video API measure.'),
    ('sip interconnect', 'sip_interconnect', 'minutes',
     'Time a SIP (phone) participant was connected to a session through SIP Interconnect.'),
    ('audio connector', 'audio_connector', 'minutes',
     'Time a session''s audio was streamed to a WebSocket by Audio Connector.'),
    ('live captions', 'live_captions', 'minutes', 'Time a stream was transcribed by Live Captions.'),
    ('archiving', 'archiving', 'minutes', 'Time a session was recorded into an archive.'),
    ('broadcasting', 'broadcasting', 'minutes', 'Time a session was broadcast live (e.g. RTMP).'),
    ('hls', 'hls', 'minutes', 'Time a session was broadcast over HLS.'),
    ('experience composer', 'experience_composer', 'minutes',
     'Time an Experience Composer rendered a web page into the session.');
COMMENT ON TABLE cdr.video_feature IS
    'Video API event types (feature_name, matched case-insensitively with _ read as a space) and how the '
    'video views measure them. Unlisted feature names appear as ''unclassified: <name>''.';
COMMENT ON COLUMN cdr.video_feature.feature_key IS 'lower(feature_name) with _ replaced by a space.';
COMMENT ON COLUMN cdr.video_feature.feature IS 'Name of the feature in the analytics views.';
COMMENT ON COLUMN cdr.video_feature.measure IS 'minutes (timed events, duration summed) or events (counted).';
COMMENT ON COLUMN cdr.video_feature.description IS 'What the event means.';

-- 6. Analyst views ---------------------------------------------------------------------------------------
-- Replaced, not altered: column lists change. The video views by meeting/session are dropped: a Video
-- Session event marks the start of a meeting and has no duration, so their meeting minutes were always 0.
DROP VIEW analytics.billing_daily;
DROP VIEW analytics.billing_monthly;
DROP VIEW analytics.invoice_reconciliation_monthly;
DROP VIEW analytics.delivery_rates_hourly;
DROP VIEW analytics.video_minutes_by_session;
DROP VIEW analytics.video_minutes_by_meeting;
DROP VIEW analytics.load_costs;

-- Customer billing ---------------------------------------------------------------------------------------
CREATE VIEW analytics.billing_daily AS
SELECT (c.event_time AT TIME ZONE 'UTC')::date AS usage_date,
       c.account_id,
       c.product,
       COALESCE(c.currency, s.value) AS currency,
       count(*) AS cdr_count,
       count(c.price) AS priced_cdr_count,
       count(*) FILTER (WHERE c.currency IS NULL) AS assumed_currency_cdr_count,
       analytics.round_money(sum(c.price), COALESCE(c.currency, s.value)) AS total_cost,
       sum(c.price) AS total_cost_exact
FROM analytics.cdr AS c
LEFT JOIN cdr.settings AS s ON s.name = 'billing_currency'
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW analytics.billing_daily IS
    'Usage cost per UTC day, account (or subaccount: its API key), product and currency, for customer '
    'billing. Roll up: sum the counts and total_cost_exact, then round (analytics.round_money).';
COMMENT ON COLUMN analytics.billing_daily.usage_date IS 'UTC day of the records'' event time.';
COMMENT ON COLUMN analytics.billing_daily.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.billing_daily.product IS 'Reports API product.';
COMMENT ON COLUMN analytics.billing_daily.currency IS
    'Currency of the costs: the records'' currency, or the billing_currency setting when they carry none.';
COMMENT ON COLUMN analytics.billing_daily.cdr_count IS 'Number of records.';
COMMENT ON COLUMN analytics.billing_daily.priced_cdr_count IS 'Records that carry a price.';
COMMENT ON COLUMN analytics.billing_daily.assumed_currency_cdr_count IS
    'Records without a currency of their own, counted in the billing_currency setting.';
COMMENT ON COLUMN analytics.billing_daily.total_cost IS
    'Sum of the records'' total price, rounded to the currency''s minor unit (NULL: no price).';
COMMENT ON COLUMN analytics.billing_daily.total_cost_exact IS 'The same sum unrounded: use it to roll up.';

CREATE VIEW analytics.billing_monthly AS
SELECT date_trunc('month', c.event_time AT TIME ZONE 'UTC')::date AS usage_month,
       c.account_id,
       c.product,
       COALESCE(c.currency, s.value) AS currency,
       count(*) AS cdr_count,
       count(c.price) AS priced_cdr_count,
       count(*) FILTER (WHERE c.currency IS NULL) AS assumed_currency_cdr_count,
       analytics.round_money(sum(c.price), COALESCE(c.currency, s.value)) AS total_cost,
       sum(c.price) AS total_cost_exact
FROM analytics.cdr AS c
LEFT JOIN cdr.settings AS s ON s.name = 'billing_currency'
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW analytics.billing_monthly IS
    'Usage cost per UTC month, account (or subaccount), product and currency, for customer billing.';
COMMENT ON COLUMN analytics.billing_monthly.usage_month IS 'First day of the UTC month of the records.';
COMMENT ON COLUMN analytics.billing_monthly.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.billing_monthly.product IS 'Reports API product.';
COMMENT ON COLUMN analytics.billing_monthly.currency IS
    'Currency of the costs: the records'' currency, or the billing_currency setting when they carry none.';
COMMENT ON COLUMN analytics.billing_monthly.cdr_count IS 'Number of records.';
COMMENT ON COLUMN analytics.billing_monthly.priced_cdr_count IS 'Records that carry a price.';
COMMENT ON COLUMN analytics.billing_monthly.assumed_currency_cdr_count IS
    'Records without a currency of their own, counted in the billing_currency setting.';
COMMENT ON COLUMN analytics.billing_monthly.total_cost IS
    'Sum of the records'' total price, rounded to the currency''s minor unit (NULL: no price).';
COMMENT ON COLUMN analytics.billing_monthly.total_cost_exact IS 'The same sum unrounded: use it to roll up.';

CREATE VIEW analytics.billing_by_country_daily AS
SELECT (c.event_time AT TIME ZONE 'UTC')::date AS usage_date,
       c.account_id,
       c.product,
       c.country,
       COALESCE(c.currency, s.value) AS currency,
       count(*) AS cdr_count,
       count(c.price) AS priced_cdr_count,
       count(*) FILTER (WHERE c.currency IS NULL) AS assumed_currency_cdr_count,
       analytics.round_money(sum(c.price), COALESCE(c.currency, s.value)) AS total_cost,
       sum(c.price) AS total_cost_exact
FROM analytics.cdr AS c
LEFT JOIN cdr.settings AS s ON s.name = 'billing_currency'
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW analytics.billing_by_country_daily IS
    'Usage cost per UTC day, account, product, country and currency: spend per country without a raw '
    'table. Roll up: sum the counts and total_cost_exact, then round (analytics.round_money).';
COMMENT ON COLUMN analytics.billing_by_country_daily.usage_date IS 'UTC day of the records'' event time.';
COMMENT ON COLUMN analytics.billing_by_country_daily.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.billing_by_country_daily.product IS 'Reports API product.';
COMMENT ON COLUMN analytics.billing_by_country_daily.country IS
    'Country code of the record (destination or number); NULL for products whose records carry no country '
    '(e.g. VIDEO-API, VOICE-TTS) or records without one.';
COMMENT ON COLUMN analytics.billing_by_country_daily.currency IS
    'Currency of the costs: the records'' currency, or the billing_currency setting when they carry none.';
COMMENT ON COLUMN analytics.billing_by_country_daily.cdr_count IS 'Number of records.';
COMMENT ON COLUMN analytics.billing_by_country_daily.priced_cdr_count IS 'Records that carry a price.';
COMMENT ON COLUMN analytics.billing_by_country_daily.assumed_currency_cdr_count IS
    'Records without a currency of their own, counted in the billing_currency setting.';
COMMENT ON COLUMN analytics.billing_by_country_daily.total_cost IS
    'Sum of the records'' total price, rounded to the currency''s minor unit (NULL: no price).';
COMMENT ON COLUMN analytics.billing_by_country_daily.total_cost_exact IS
    'The same sum unrounded: use it to roll up.';

CREATE VIEW analytics.billing_by_account_monthly AS
SELECT date_trunc('month', c.event_time AT TIME ZONE 'UTC')::date AS usage_month,
       c.account_id,
       COALESCE(c.currency, s.value) AS currency,
       count(*) AS cdr_count,
       count(c.price) AS priced_cdr_count,
       count(*) FILTER (WHERE c.currency IS NULL) AS assumed_currency_cdr_count,
       analytics.round_money(sum(c.price), COALESCE(c.currency, s.value)) AS total_cost,
       sum(c.price) AS total_cost_exact
FROM analytics.cdr AS c
LEFT JOIN cdr.settings AS s ON s.name = 'billing_currency'
GROUP BY 1, 2, 3;
COMMENT ON VIEW analytics.billing_by_account_monthly IS
    'What each account (or subaccount) spent per UTC month and currency, all products together.';
COMMENT ON COLUMN analytics.billing_by_account_monthly.usage_month IS 'First day of the UTC month of the records.';
COMMENT ON COLUMN analytics.billing_by_account_monthly.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.billing_by_account_monthly.currency IS
    'Currency of the costs: the records'' currency, or the billing_currency setting when they carry none.';
COMMENT ON COLUMN analytics.billing_by_account_monthly.cdr_count IS 'Number of records, all products.';
COMMENT ON COLUMN analytics.billing_by_account_monthly.priced_cdr_count IS 'Records that carry a price.';
COMMENT ON COLUMN analytics.billing_by_account_monthly.assumed_currency_cdr_count IS
    'Records without a currency of their own, counted in the billing_currency setting.';
COMMENT ON COLUMN analytics.billing_by_account_monthly.total_cost IS
    'Sum of the records'' total price, rounded to the currency''s minor unit (NULL: no price).';
COMMENT ON COLUMN analytics.billing_by_account_monthly.total_cost_exact IS
    'The same sum unrounded: use it to roll up.';

-- Invoice reconciliation ---------------------------------------------------------------------------------
CREATE VIEW analytics.invoice_reconciliation_monthly AS
WITH billing AS (
    SELECT value AS currency FROM cdr.settings WHERE name = 'billing_currency'
), usage AS (
    SELECT date_trunc('month', c.event_time AT TIME ZONE 'UTC')::date AS invoice_month,
           'usage'::text AS charge_type,
           c.product AS line_item,
           COALESCE(c.currency, b.currency) AS currency,
           count(*) AS cdr_count,
           count(c.price) AS priced_cdr_count,
           count(*) FILTER (WHERE c.currency IS NULL) AS assumed_currency_cdr_count,
           sum(c.price) AS total_cost_exact
    FROM analytics.cdr AS c
    LEFT JOIN billing AS b ON true
    WHERE c.product <> 'REPORTS-USAGE'
    GROUP BY 1, 2, 3, 4
), retrieval AS (
    SELECT date_trunc('month', l.started_at AT TIME ZONE 'UTC')::date AS invoice_month,
           p.currency,
           sum(l.cdrs_billed) AS cdrs_billed,
           sum(l.cdrs_billed) * p.price_per_cdr AS cost
    FROM cdr.load_ledger AS l
    CROSS JOIN analytics.reports_api_price AS p
    GROUP BY 1, 2, p.price_per_cdr
), reported AS (
    SELECT date_trunc('month', r.event_time AT TIME ZONE 'UTC')::date AS invoice_month,
           COALESCE(NULLIF(r.currency, ''), b.currency) AS currency,
           sum(r.items_written) FILTER (WHERE r.is_charged IS NOT false) AS cdrs,
           sum(r.total_price) AS cost
    FROM cdr.reports_usage AS r
    LEFT JOIN billing AS b ON true
    GROUP BY 1, 2
)
SELECT invoice_month, charge_type, line_item, currency, cdr_count, priced_cdr_count, assumed_currency_cdr_count,
       analytics.round_money(total_cost_exact, currency) AS total_cost,
       total_cost_exact,
       NULL::bigint AS reports_usage_cdrs,
       NULL::numeric AS reports_usage_cost
FROM usage
UNION ALL
SELECT COALESCE(t.invoice_month, r.invoice_month),
       'reports_api',
       'REPORTS-API',
       COALESCE(t.currency, r.currency),
       COALESCE(t.cdrs_billed, 0)::bigint,
       COALESCE(t.cdrs_billed, 0)::bigint,
       0::bigint,
       analytics.round_money(COALESCE(t.cost, 0), COALESCE(t.currency, r.currency)),
       COALESCE(t.cost, 0),
       r.cdrs::bigint,
       analytics.round_money(r.cost, COALESCE(t.currency, r.currency))
FROM retrieval AS t
FULL JOIN reported AS r ON r.invoice_month = t.invoice_month AND r.currency = t.currency;
COMMENT ON VIEW analytics.invoice_reconciliation_monthly IS
    'One line per UTC month, product and currency to compare with the Vonage invoice: each product''s usage '
    '(from its CDRs), and the Reports API''s own charge for retrieving CDRs on a line of its own '
    '(line_item REPORTS-API: cdr.load_ledger.cdrs_billed x the per-CDR price in cdr.settings). Records '
    'without a currency are counted in the billing_currency setting, so no product is split across a NULL '
    'currency row. REPORTS-USAGE records are the Reports API''s charges themselves: they are shown beside '
    'the REPORTS-API line (reports_usage_*), not as usage. The month total is sum(total_cost_exact) per '
    'currency, then rounded.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.invoice_month IS
    'First day of the UTC month: of the records'' event time for usage, of the retrieval for REPORTS-API.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.charge_type IS
    'usage (a product''s CDRs) or reports_api (what retrieving CDRs through the Reports API cost).';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.line_item IS
    'Reports API product for usage lines; REPORTS-API for the retrieval charge.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.currency IS
    'Currency of the line: the records'' currency, or the billing_currency setting when they carry none; '
    'for REPORTS-API the currency of the per-CDR price.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.cdr_count IS
    'usage: records of the product in the month; reports_api: CDRs retrieved and billed by this pipeline.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.priced_cdr_count IS
    'Of cdr_count, the records that carry a price (all of them for REPORTS-API).';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.assumed_currency_cdr_count IS
    'Records without a currency of their own, counted in the billing_currency setting.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.total_cost IS
    'Cost of the line rounded to the currency''s minor unit (NULL: the product''s records carry no price).';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.total_cost_exact IS
    'The same cost unrounded: use it to roll up.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.reports_usage_cdrs IS
    'REPORTS-API line only: charged CDRs according to Vonage''s REPORTS-USAGE records of the month (every '
    'caller of the Reports API, not only this pipeline); NULL when REPORTS-USAGE is not loaded.';
COMMENT ON COLUMN analytics.invoice_reconciliation_monthly.reports_usage_cost IS
    'REPORTS-API line only: their total price, rounded; NULL when REPORTS-USAGE is not loaded.';

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
), counted AS (
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
           count(*) FILTER (WHERE outcome IS NULL) AS other_count
    FROM classified
    GROUP BY 1, 2, 3, 4, 5
)
SELECT hour_start, product, channel, country, network, network_name,
       message_count, delivered_count, failed_count, pending_count, other_count,
       delivered_count + failed_count AS final_count,
       round(delivered_count::numeric / message_count, 4) AS delivery_rate,
       round(failed_count::numeric / message_count, 4) AS failure_rate,
       round(delivered_count::numeric / NULLIF(delivered_count + failed_count, 0), 4) AS final_delivery_rate
FROM counted;
COMMENT ON VIEW analytics.delivery_rates_hourly IS
    'Outbound SMS and Messages delivery per UTC hour, product, channel, country and network. Statuses are '
    'classified by cdr.delivery_status_class (SMS: delivered = delivered; failed = expired, failed, rejected, '
    'deleted; pending = accepted, buffered, submitted. Messages: delivered = delivered, read; failed = '
    'rejected, undeliverable; pending = submitted); any other status counts as other. Recent hours change '
    'for up to 72 hours as delivery receipts arrive. Rates at this grain rest on few messages: to roll up, '
    'sum the counts and divide (sum(delivered_count) / sum(message_count)); never average the rates.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.hour_start IS 'Start of the UTC hour the messages were sent.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.product IS 'SMS or MESSAGES.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.channel IS 'sms for SMS API; Messages API provider (whatsapp, sms, ...).';
COMMENT ON COLUMN analytics.delivery_rates_hourly.country IS 'Destination country code.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.network IS 'Destination network code (MCC+MNC).';
COMMENT ON COLUMN analytics.delivery_rates_hourly.network_name IS 'Destination network name.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.message_count IS
    'Outbound messages (SMS: message parts); denominator of delivery_rate and failure_rate.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.delivered_count IS
    'Messages with a delivered status; numerator of delivery_rate and final_delivery_rate.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.failed_count IS
    'Messages with a failed status; numerator of failure_rate.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.pending_count IS 'Messages still without final status.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.other_count IS 'Messages with an unclassified status (e.g. unknown).';
COMMENT ON COLUMN analytics.delivery_rates_hourly.final_count IS
    'delivered_count + failed_count: messages with a final status; denominator of final_delivery_rate.';
COMMENT ON COLUMN analytics.delivery_rates_hourly.delivery_rate IS
    'Ratio delivered_count / message_count (0..1, 4 decimals). Roll up as sum(delivered_count) / '
    'sum(message_count).';
COMMENT ON COLUMN analytics.delivery_rates_hourly.failure_rate IS
    'Ratio failed_count / message_count (0..1, 4 decimals). Roll up as sum(failed_count) / sum(message_count).';
COMMENT ON COLUMN analytics.delivery_rates_hourly.final_delivery_rate IS
    'Ratio delivered_count / final_count (0..1, 4 decimals; NULL when no message is final yet). Roll up as '
    'sum(delivered_count) / sum(final_count).';

CREATE VIEW analytics.delivery_rates_daily AS
SELECT (hour_start AT TIME ZONE 'UTC')::date AS usage_date,
       product,
       channel,
       country,
       sum(message_count)::bigint AS message_count,
       sum(delivered_count)::bigint AS delivered_count,
       sum(failed_count)::bigint AS failed_count,
       sum(pending_count)::bigint AS pending_count,
       sum(other_count)::bigint AS other_count,
       sum(final_count)::bigint AS final_count,
       round(sum(delivered_count) / sum(message_count), 4) AS delivery_rate,
       round(sum(failed_count) / sum(message_count), 4) AS failure_rate,
       round(sum(delivered_count) / NULLIF(sum(final_count), 0), 4) AS final_delivery_rate
FROM analytics.delivery_rates_hourly
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW analytics.delivery_rates_daily IS
    'Outbound SMS and Messages delivery per UTC day, product, channel and country (all networks), with the '
    'same status classes as analytics.delivery_rates_hourly. To roll up further, sum the counts and divide; '
    'never average the rates.';
COMMENT ON COLUMN analytics.delivery_rates_daily.usage_date IS 'UTC day the messages were sent.';
COMMENT ON COLUMN analytics.delivery_rates_daily.product IS 'SMS or MESSAGES.';
COMMENT ON COLUMN analytics.delivery_rates_daily.channel IS 'sms for SMS API; Messages API provider (whatsapp, sms, ...).';
COMMENT ON COLUMN analytics.delivery_rates_daily.country IS 'Destination country code.';
COMMENT ON COLUMN analytics.delivery_rates_daily.message_count IS
    'Outbound messages (SMS: message parts); denominator of delivery_rate and failure_rate.';
COMMENT ON COLUMN analytics.delivery_rates_daily.delivered_count IS
    'Messages with a delivered status; numerator of delivery_rate and final_delivery_rate.';
COMMENT ON COLUMN analytics.delivery_rates_daily.failed_count IS
    'Messages with a failed status; numerator of failure_rate.';
COMMENT ON COLUMN analytics.delivery_rates_daily.pending_count IS 'Messages still without final status.';
COMMENT ON COLUMN analytics.delivery_rates_daily.other_count IS 'Messages with an unclassified status (e.g. unknown).';
COMMENT ON COLUMN analytics.delivery_rates_daily.final_count IS
    'delivered_count + failed_count: messages with a final status; denominator of final_delivery_rate.';
COMMENT ON COLUMN analytics.delivery_rates_daily.delivery_rate IS
    'Ratio delivered_count / message_count (0..1, 4 decimals). Roll up as sum(delivered_count) / '
    'sum(message_count).';
COMMENT ON COLUMN analytics.delivery_rates_daily.failure_rate IS
    'Ratio failed_count / message_count (0..1, 4 decimals). Roll up as sum(failed_count) / sum(message_count).';
COMMENT ON COLUMN analytics.delivery_rates_daily.final_delivery_rate IS
    'Ratio delivered_count / final_count (0..1, 4 decimals; NULL when no message is final yet). Roll up as '
    'sum(delivered_count) / sum(final_count).';

-- Video API usage ----------------------------------------------------------------------------------------
-- One row per event with its feature, project, minutes and currency resolved; the two views group it.
CREATE VIEW analytics.video_usage_events AS
SELECT v.id AS event_id,
       v.account_id,
       NULLIF(v.application_id, '') AS project_id,
       NULLIF(v.session_id, '') AS session_id,
       COALESCE(f.feature, 'unclassified: ' || v.feature_name) AS feature,
       COALESCE(f.measure, 'minutes') AS measure,
       v.event_time,
       v.date_end,
       COALESCE(v.duration, extract(epoch FROM v.date_end - v.date_start)::bigint, 0) AS usage_seconds,
       v.total_price,
       COALESCE(NULLIF(v.currency, ''), s.value) AS currency,
       NULLIF(v.currency, '') IS NULL AS assumed_currency
FROM cdr.video_api AS v
LEFT JOIN cdr.video_feature AS f ON f.feature_key = lower(replace(v.feature_name, '_', ' '))
LEFT JOIN cdr.settings AS s ON s.name = 'billing_currency';
COMMENT ON VIEW analytics.video_usage_events IS
    'Video API usage events with their meaning resolved (cdr.video_feature): one row per event. A Video '
    'Session event marks the start of a meeting (no duration, no cost); minutes come from the timed '
    'features (subscriber minutes, SIP Interconnect, Audio Connector, Live Captions, archiving, '
    'broadcasting, HLS, Experience Composer), each event counted once, on the UTC day it started.';
COMMENT ON COLUMN analytics.video_usage_events.event_id IS 'Event id (cdr.video_api.id).';
COMMENT ON COLUMN analytics.video_usage_events.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.video_usage_events.project_id IS
    'Video project: the Vonage application (application_id) whose session produced the event.';
COMMENT ON COLUMN analytics.video_usage_events.session_id IS 'Video session (virtual room); NULL when none.';
COMMENT ON COLUMN analytics.video_usage_events.feature IS
    'Feature from cdr.video_feature, e.g. subscriber_minutes; ''unclassified: <name>'' for an unknown one.';
COMMENT ON COLUMN analytics.video_usage_events.measure IS
    'minutes (timed feature) or events (video_session: counts meetings).';
COMMENT ON COLUMN analytics.video_usage_events.event_time IS 'When the event started (UTC).';
COMMENT ON COLUMN analytics.video_usage_events.date_end IS 'When the event ended (UTC).';
COMMENT ON COLUMN analytics.video_usage_events.usage_seconds IS
    'Duration in seconds (date_end - date_start when Vonage gave none; 0 for Video Session).';
COMMENT ON COLUMN analytics.video_usage_events.total_price IS 'Cost of the event, exact.';
COMMENT ON COLUMN analytics.video_usage_events.currency IS
    'Currency of total_price: the event''s, or the billing_currency setting when it carries none.';
COMMENT ON COLUMN analytics.video_usage_events.assumed_currency IS
    'True when the event carried no currency and billing_currency was assumed.';

CREATE VIEW analytics.video_usage_daily AS
SELECT (event_time AT TIME ZONE 'UTC')::date AS usage_date,
       account_id,
       project_id,
       feature,
       currency,
       count(*) AS event_count,
       sum(usage_seconds)::bigint AS usage_seconds,
       round(sum(usage_seconds) / 60.0, 2) AS usage_minutes,
       analytics.round_money(sum(total_price), currency) AS total_cost,
       sum(total_price) AS total_cost_exact
FROM analytics.video_usage_events
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW analytics.video_usage_daily IS
    'Video API minutes, events and cost per UTC day, account, project (application_id), feature and '
    'currency. Roll up: sum(usage_seconds) / 60 for minutes and sum(total_cost_exact) for cost; never sum '
    'the rounded usage_minutes or total_cost.';
COMMENT ON COLUMN analytics.video_usage_daily.usage_date IS 'UTC day the events started.';
COMMENT ON COLUMN analytics.video_usage_daily.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.video_usage_daily.project_id IS 'Video project: the Vonage application id.';
COMMENT ON COLUMN analytics.video_usage_daily.feature IS
    'subscriber_minutes, sip_interconnect, audio_connector, live_captions, archiving, broadcasting, hls, '
    'experience_composer, video_session, or ''unclassified: <name>''.';
COMMENT ON COLUMN analytics.video_usage_daily.currency IS 'Currency of the costs.';
COMMENT ON COLUMN analytics.video_usage_daily.event_count IS
    'Events; for video_session the number of meetings started.';
COMMENT ON COLUMN analytics.video_usage_daily.usage_seconds IS 'Total duration of the events in seconds (exact).';
COMMENT ON COLUMN analytics.video_usage_daily.usage_minutes IS 'usage_seconds / 60, rounded to 2 decimals.';
COMMENT ON COLUMN analytics.video_usage_daily.total_cost IS 'Cost rounded to the currency''s minor unit.';
COMMENT ON COLUMN analytics.video_usage_daily.total_cost_exact IS 'The same cost unrounded: use it to roll up.';

CREATE VIEW analytics.video_usage_by_session AS
SELECT (event_time AT TIME ZONE 'UTC')::date AS usage_date,
       account_id,
       project_id,
       session_id,
       feature,
       currency,
       min(event_time) AS first_event_at,
       max(date_end) AS last_event_at,
       count(*) AS event_count,
       sum(usage_seconds)::bigint AS usage_seconds,
       round(sum(usage_seconds) / 60.0, 2) AS usage_minutes,
       analytics.round_money(sum(total_price), currency) AS total_cost,
       sum(total_price) AS total_cost_exact
FROM analytics.video_usage_events
GROUP BY 1, 2, 3, 4, 5, 6;
COMMENT ON VIEW analytics.video_usage_by_session IS
    'Video API minutes, events and cost per UTC day, session (virtual room) and feature; a session that '
    'spans midnight has a row per day its events started on. Meetings held = event_count of feature '
    'video_session. Roll up (e.g. a whole session): sum(usage_seconds) / 60 and sum(total_cost_exact).';
COMMENT ON COLUMN analytics.video_usage_by_session.usage_date IS 'UTC day the events started.';
COMMENT ON COLUMN analytics.video_usage_by_session.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.video_usage_by_session.project_id IS 'Video project: the Vonage application id.';
COMMENT ON COLUMN analytics.video_usage_by_session.session_id IS 'Video session; NULL for events without one.';
COMMENT ON COLUMN analytics.video_usage_by_session.feature IS 'Feature, as in analytics.video_usage_daily.';
COMMENT ON COLUMN analytics.video_usage_by_session.currency IS 'Currency of the costs.';
COMMENT ON COLUMN analytics.video_usage_by_session.first_event_at IS
    'Start of the day''s first event (UTC).';
COMMENT ON COLUMN analytics.video_usage_by_session.last_event_at IS 'End of the day''s last event (UTC).';
COMMENT ON COLUMN analytics.video_usage_by_session.event_count IS
    'Events; for video_session the number of meetings held in the session.';
COMMENT ON COLUMN analytics.video_usage_by_session.usage_seconds IS 'Total duration in seconds (exact).';
COMMENT ON COLUMN analytics.video_usage_by_session.usage_minutes IS 'usage_seconds / 60, rounded to 2 decimals.';
COMMENT ON COLUMN analytics.video_usage_by_session.total_cost IS 'Cost rounded to the currency''s minor unit.';
COMMENT ON COLUMN analytics.video_usage_by_session.total_cost_exact IS
    'The same cost unrounded: use it to roll up.';

-- Operations ---------------------------------------------------------------------------------------------
CREATE VIEW analytics.load_costs AS
SELECT (l.started_at AT TIME ZONE 'UTC')::date AS load_date,
       l.product,
       l.mode,
       count(*) AS load_count,
       sum(l.rows_read) AS rows_read,
       sum(l.rows_loaded) AS rows_loaded,
       sum(l.rows_quarantined) AS rows_quarantined,
       sum(l.cdrs_billed) AS cdrs_billed,
       analytics.round_money(sum(l.cdrs_billed) * p.price_per_cdr, p.currency) AS reports_api_cost,
       sum(l.cdrs_billed) * p.price_per_cdr AS reports_api_cost_exact,
       p.currency
FROM cdr.load_ledger AS l
CROSS JOIN analytics.reports_api_price AS p
GROUP BY 1, 2, 3, p.price_per_cdr, p.currency;
COMMENT ON VIEW analytics.load_costs IS
    'What the loads retrieved and what that cost at the Reports API per-CDR price, per UTC day, product and '
    'mode. Roll up: sum cdrs_billed and reports_api_cost_exact, then round.';
COMMENT ON COLUMN analytics.load_costs.load_date IS 'UTC day the loads started.';
COMMENT ON COLUMN analytics.load_costs.product IS 'Reports API product.';
COMMENT ON COLUMN analytics.load_costs.mode IS 'async (daily report) or sync (incremental records).';
COMMENT ON COLUMN analytics.load_costs.load_count IS 'Number of loads.';
COMMENT ON COLUMN analytics.load_costs.rows_read IS 'Records read.';
COMMENT ON COLUMN analytics.load_costs.rows_loaded IS 'Records written or confirmed unchanged.';
COMMENT ON COLUMN analytics.load_costs.rows_quarantined IS 'Records quarantined.';
COMMENT ON COLUMN analytics.load_costs.cdrs_billed IS 'CDRs the Reports API billed.';
COMMENT ON COLUMN analytics.load_costs.reports_api_cost IS
    'cdrs_billed x price per CDR, rounded to the currency''s minor unit.';
COMMENT ON COLUMN analytics.load_costs.reports_api_cost_exact IS 'The same cost unrounded: use it to roll up.';
COMMENT ON COLUMN analytics.load_costs.currency IS 'Currency of reports_api_cost.';

-- 7. Privileges ------------------------------------------------------------------------------------------
SELECT cdr.apply_analyst_privileges({{analyst_role_literal}}, {{analyst_pii_role_literal}});
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO {{analyst_role}};
GRANT EXECUTE ON FUNCTION analytics.round_money(numeric, text) TO {{analyst_role}};
-- The pipelines' runtime login renders the usage and cost report from these views at the end of the daily
-- DAG, so the loader role reads them too (read only: it writes nothing in analytics).
GRANT USAGE ON SCHEMA analytics TO {{loader_role}};
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO {{loader_role}};
GRANT EXECUTE ON FUNCTION analytics.round_money(numeric, text) TO {{loader_role}};
ALTER DEFAULT PRIVILEGES FOR ROLE {{owner_role}} IN SCHEMA analytics GRANT SELECT ON TABLES TO {{loader_role}};

RESET ROLE;

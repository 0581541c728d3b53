-- GENERATED from include/vonage_cdr/products.py by
-- `python -m include.vonage_cdr.warehouse.product_ddl`.
-- Do not edit by hand; tests/warehouse/test_migrations.py checks it matches the registry.
-- Every product in one view with the columns they share (NULL where a product lacks one).
-- Filters on event_time and account_id reach each product table's partitions and indexes.

CREATE VIEW analytics.cdr AS
SELECT 'SMS' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       direction AS direction,
       from_address AS from_address,
       to_address AS to_address,
       country AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.sms
UNION ALL
SELECT 'SMS-TRAFFIC-CONTROL' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       NULL::text AS to_address,
       NULL::text AS country,
       status AS status,
       NULL::numeric AS price,
       NULL::text AS currency
FROM cdr.sms_traffic_control
UNION ALL
SELECT 'VOICE-CALL' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       direction AS direction,
       from_address AS from_address,
       to_address AS to_address,
       country AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.voice_call
UNION ALL
SELECT 'VOICE-FAILED' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       direction AS direction,
       from_address AS from_address,
       to_address AS to_address,
       country AS country,
       status AS status,
       NULL::numeric AS price,
       NULL::text AS currency
FROM cdr.voice_failed
UNION ALL
SELECT 'VOICE-TTS' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       from_address AS from_address,
       to_address AS to_address,
       NULL::text AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.voice_tts
UNION ALL
SELECT 'IN-APP-VOICE' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       NULL::text AS to_address,
       NULL::text AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.in_app_voice
UNION ALL
SELECT 'WEBSOCKET-CALL' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       NULL::text AS to_address,
       NULL::text AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.websocket_call
UNION ALL
SELECT 'ASR' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       direction AS direction,
       from_address AS from_address,
       to_address AS to_address,
       NULL::text AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.asr
UNION ALL
SELECT 'AMD' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       NULL::text AS to_address,
       NULL::text AS country,
       NULL::text AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.amd
UNION ALL
SELECT 'VERIFY-API' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       from_address AS from_address,
       to_address AS to_address,
       country AS country,
       COALESCE(status, verify_status) AS status,
       price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.verify_api
UNION ALL
SELECT 'VERIFY-V2' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       to_address AS to_address,
       country AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.verify_v2
UNION ALL
SELECT 'NUMBER-INSIGHT' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       NULL::text AS to_address,
       country AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.number_insight
UNION ALL
SELECT 'NUMBER-INSIGHT-V2' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       NULL::text AS to_address,
       country AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.number_insight_v2
UNION ALL
SELECT 'MESSAGES' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       direction AS direction,
       from_address AS from_address,
       to_address AS to_address,
       country AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.messages
UNION ALL
SELECT 'CONVERSATION-EVENT' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       NULL::text AS to_address,
       NULL::text AS country,
       NULL::text AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.conversation_event
UNION ALL
SELECT 'CONVERSATION-MESSAGE' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       NULL::text AS to_address,
       NULL::text AS country,
       NULL::text AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.conversation_message
UNION ALL
SELECT 'VIDEO-API' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       NULL::text AS to_address,
       NULL::text AS country,
       NULL::text AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.video_api
UNION ALL
SELECT 'NETWORK-API-EVENT' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       NULL::text AS to_address,
       country_code AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.network_api_event
UNION ALL
SELECT 'REPORTS-USAGE' AS product,
       id AS record_id,
       account_id AS account_id,
       event_time AS event_time,
       NULL::text AS direction,
       NULL::text AS from_address,
       NULL::text AS to_address,
       NULL::text AS country,
       status AS status,
       total_price AS price,
       NULLIF(currency, '') AS currency
FROM cdr.reports_usage;
COMMENT ON VIEW analytics.cdr IS 'All CDRs of every product with their shared columns.';
COMMENT ON COLUMN analytics.cdr.product IS 'Reports API product, e.g. SMS.';
COMMENT ON COLUMN analytics.cdr.record_id IS 'Record id (the product table''s id).';
COMMENT ON COLUMN analytics.cdr.account_id IS 'Account or subaccount API key.';
COMMENT ON COLUMN analytics.cdr.event_time IS 'Event time (UTC) of the record: the product''s date-filter column.';
COMMENT ON COLUMN analytics.cdr.direction IS 'inbound/outbound where the product has a direction, else NULL.';
COMMENT ON COLUMN analytics.cdr.from_address IS 'Sender where the product has one, else NULL.';
COMMENT ON COLUMN analytics.cdr.to_address IS 'Recipient where the product has one, else NULL.';
COMMENT ON COLUMN analytics.cdr.country IS 'Country code where the product has one, else NULL.';
COMMENT ON COLUMN analytics.cdr.status IS 'Status where the product has one, else NULL.';
COMMENT ON COLUMN analytics.cdr.price IS 'Total cost of the record in currency (NULL for products without a price).';
COMMENT ON COLUMN analytics.cdr.currency IS 'Currency of price; NULL when the product or the record gives none.';

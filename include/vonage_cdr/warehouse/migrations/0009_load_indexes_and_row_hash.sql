-- What a load costs and what analysts' queries need (docs/performance.md, Indexes; measured with
-- `make bench`). Every row a load inserts is also inserted into each btree of its table; that upkeep was
-- about half of a first load's time.
--
-- Indexes kept:
-- * the primary key (id, event_time): one row per record (warehouse/load.py) and the probes of every
--   reload and merge;
-- * <table>_account_id_event_time_idx (btree): customer billing and reconciliation read one account over a
--   period (analytics.billing_daily / billing_monthly / analytics.cdr filtered on account_id), and so do
--   the freshness check of every load and the video views' per-session lookups
--   (tests/warehouse/test_query_plans.py).
-- Replaced:
-- * <table>_event_time_idx (btree) by <table>_event_time_brin (BRIN, autosummarized): queries over a period
--   for all accounts (a day of analytics.cdr, the last hours of monitoring) read the matching block ranges
--   of a month partition. Rows arrive roughly in event-time order (a daily file, 5-minute incremental
--   windows), which is what BRIN needs, and it costs a load next to nothing.
-- Dropped:
-- * <table>_<status>_event_time_idx and <table>_<country>_event_time_idx: no view filters on status or
--   country (analytics.delivery_rates_hourly groups by them over whole hours), a handful of values each
--   makes them unselective, and together they cost a first load more than its primary key. An ad-hoc
--   "failed messages today" reads the day through partition pruning and the BRIN index instead.
-- Partitioned indexes: dropping one drops it on every month partition; creating one creates it on every
-- partition, present and future (cdr.ensure_partitions).
--
-- Row fingerprints (_row_hash, end of file): a reload compares one fingerprint per row instead of every
-- column, so an unchanged file is checked without being copied into PostgreSQL. NULL = unknown (rows
-- loaded before this migration, or merged from a file lacking a column): such a row is compared in full
-- and gets its fingerprint when the values match.

-- SMS
DROP INDEX IF EXISTS cdr.sms_event_time_idx;
DROP INDEX IF EXISTS cdr.sms_status_event_time_idx;
DROP INDEX IF EXISTS cdr.sms_country_event_time_idx;
CREATE INDEX IF NOT EXISTS sms_event_time_brin ON cdr.sms
    USING brin (event_time) WITH (autosummarize = on);
-- SMS-TRAFFIC-CONTROL
DROP INDEX IF EXISTS cdr.sms_traffic_control_event_time_idx;
DROP INDEX IF EXISTS cdr.sms_traffic_control_status_event_time_idx;
CREATE INDEX IF NOT EXISTS sms_traffic_control_event_time_brin ON cdr.sms_traffic_control
    USING brin (event_time) WITH (autosummarize = on);
-- VOICE-CALL
DROP INDEX IF EXISTS cdr.voice_call_event_time_idx;
DROP INDEX IF EXISTS cdr.voice_call_status_event_time_idx;
DROP INDEX IF EXISTS cdr.voice_call_country_event_time_idx;
CREATE INDEX IF NOT EXISTS voice_call_event_time_brin ON cdr.voice_call
    USING brin (event_time) WITH (autosummarize = on);
-- VOICE-FAILED
DROP INDEX IF EXISTS cdr.voice_failed_event_time_idx;
DROP INDEX IF EXISTS cdr.voice_failed_status_event_time_idx;
DROP INDEX IF EXISTS cdr.voice_failed_country_event_time_idx;
CREATE INDEX IF NOT EXISTS voice_failed_event_time_brin ON cdr.voice_failed
    USING brin (event_time) WITH (autosummarize = on);
-- VOICE-TTS
DROP INDEX IF EXISTS cdr.voice_tts_event_time_idx;
DROP INDEX IF EXISTS cdr.voice_tts_status_event_time_idx;
CREATE INDEX IF NOT EXISTS voice_tts_event_time_brin ON cdr.voice_tts
    USING brin (event_time) WITH (autosummarize = on);
-- IN-APP-VOICE
DROP INDEX IF EXISTS cdr.in_app_voice_event_time_idx;
DROP INDEX IF EXISTS cdr.in_app_voice_status_event_time_idx;
CREATE INDEX IF NOT EXISTS in_app_voice_event_time_brin ON cdr.in_app_voice
    USING brin (event_time) WITH (autosummarize = on);
-- WEBSOCKET-CALL
DROP INDEX IF EXISTS cdr.websocket_call_event_time_idx;
DROP INDEX IF EXISTS cdr.websocket_call_status_event_time_idx;
CREATE INDEX IF NOT EXISTS websocket_call_event_time_brin ON cdr.websocket_call
    USING brin (event_time) WITH (autosummarize = on);
-- ASR
DROP INDEX IF EXISTS cdr.asr_event_time_idx;
DROP INDEX IF EXISTS cdr.asr_status_event_time_idx;
CREATE INDEX IF NOT EXISTS asr_event_time_brin ON cdr.asr
    USING brin (event_time) WITH (autosummarize = on);
-- AMD
DROP INDEX IF EXISTS cdr.amd_event_time_idx;
CREATE INDEX IF NOT EXISTS amd_event_time_brin ON cdr.amd
    USING brin (event_time) WITH (autosummarize = on);
-- VERIFY-API
DROP INDEX IF EXISTS cdr.verify_api_event_time_idx;
DROP INDEX IF EXISTS cdr.verify_api_status_event_time_idx;
DROP INDEX IF EXISTS cdr.verify_api_country_event_time_idx;
CREATE INDEX IF NOT EXISTS verify_api_event_time_brin ON cdr.verify_api
    USING brin (event_time) WITH (autosummarize = on);
-- VERIFY-V2
DROP INDEX IF EXISTS cdr.verify_v2_event_time_idx;
DROP INDEX IF EXISTS cdr.verify_v2_status_event_time_idx;
DROP INDEX IF EXISTS cdr.verify_v2_country_event_time_idx;
CREATE INDEX IF NOT EXISTS verify_v2_event_time_brin ON cdr.verify_v2
    USING brin (event_time) WITH (autosummarize = on);
-- NUMBER-INSIGHT
DROP INDEX IF EXISTS cdr.number_insight_event_time_idx;
DROP INDEX IF EXISTS cdr.number_insight_status_event_time_idx;
DROP INDEX IF EXISTS cdr.number_insight_country_event_time_idx;
CREATE INDEX IF NOT EXISTS number_insight_event_time_brin ON cdr.number_insight
    USING brin (event_time) WITH (autosummarize = on);
-- NUMBER-INSIGHT-V2
DROP INDEX IF EXISTS cdr.number_insight_v2_event_time_idx;
DROP INDEX IF EXISTS cdr.number_insight_v2_status_event_time_idx;
DROP INDEX IF EXISTS cdr.number_insight_v2_country_event_time_idx;
CREATE INDEX IF NOT EXISTS number_insight_v2_event_time_brin ON cdr.number_insight_v2
    USING brin (event_time) WITH (autosummarize = on);
-- MESSAGES
DROP INDEX IF EXISTS cdr.messages_event_time_idx;
DROP INDEX IF EXISTS cdr.messages_status_event_time_idx;
DROP INDEX IF EXISTS cdr.messages_country_event_time_idx;
CREATE INDEX IF NOT EXISTS messages_event_time_brin ON cdr.messages
    USING brin (event_time) WITH (autosummarize = on);
-- CONVERSATION-EVENT
DROP INDEX IF EXISTS cdr.conversation_event_event_time_idx;
CREATE INDEX IF NOT EXISTS conversation_event_event_time_brin ON cdr.conversation_event
    USING brin (event_time) WITH (autosummarize = on);
-- CONVERSATION-MESSAGE
DROP INDEX IF EXISTS cdr.conversation_message_event_time_idx;
CREATE INDEX IF NOT EXISTS conversation_message_event_time_brin ON cdr.conversation_message
    USING brin (event_time) WITH (autosummarize = on);
-- VIDEO-API
DROP INDEX IF EXISTS cdr.video_api_event_time_idx;
CREATE INDEX IF NOT EXISTS video_api_event_time_brin ON cdr.video_api
    USING brin (event_time) WITH (autosummarize = on);
-- NETWORK-API-EVENT
DROP INDEX IF EXISTS cdr.network_api_event_event_time_idx;
DROP INDEX IF EXISTS cdr.network_api_event_status_event_time_idx;
DROP INDEX IF EXISTS cdr.network_api_event_country_code_event_time_idx;
CREATE INDEX IF NOT EXISTS network_api_event_event_time_brin ON cdr.network_api_event
    USING brin (event_time) WITH (autosummarize = on);
-- REPORTS-USAGE
DROP INDEX IF EXISTS cdr.reports_usage_event_time_idx;
DROP INDEX IF EXISTS cdr.reports_usage_status_event_time_idx;
CREATE INDEX IF NOT EXISTS reports_usage_event_time_brin ON cdr.reports_usage
    USING brin (event_time) WITH (autosummarize = on);

-- Row fingerprints ---------------------------------------------------------------------------------------
ALTER TABLE cdr.sms ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.sms._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.sms_traffic_control ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.sms_traffic_control._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.voice_call ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.voice_call._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.voice_failed ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.voice_failed._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.voice_tts ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.voice_tts._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.in_app_voice ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.in_app_voice._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.websocket_call ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.websocket_call._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.asr ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.asr._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.amd ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.amd._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.verify_api ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.verify_api._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.verify_v2 ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.verify_v2._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.number_insight ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.number_insight._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.number_insight_v2 ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.number_insight_v2._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.messages ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.messages._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.conversation_event ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.conversation_event._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.conversation_message ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.conversation_message._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.video_api ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.video_api._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.network_api_event ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.network_api_event._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';
ALTER TABLE cdr.reports_usage ADD COLUMN _row_hash bytea;
COMMENT ON COLUMN cdr.reports_usage._row_hash IS
    'Fingerprint of the row''s values as last loaded (BLAKE2b-128), so reloads skip unchanged rows; NULL: unknown.';

-- The new column is readable by analysts like every unrestricted column (migration 0008's rule).
SELECT cdr.apply_analyst_privileges({{analyst_role_literal}}, {{analyst_pii_role_literal}});

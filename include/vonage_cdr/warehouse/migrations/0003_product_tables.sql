-- GENERATED from include/vonage_cdr/products.py by
-- `python -m include.vonage_cdr.warehouse.product_ddl`.
-- Do not edit by hand; tests/warehouse/test_migrations.py checks it matches the registry.
-- One typed, monthly-partitioned table per Reports API product (runs as the loader role).

-- SMS
CREATE TABLE cdr.sms (
    account_id text,
    message_id text,
    account_ref text,
    client_ref text,
    direction text,
    from_address text,
    to_address text,
    forced_from text,
    changed_from text,
    concatenated boolean,
    message_body text,
    network text,
    network_name text,
    country text,
    country_name text,
    date_received timestamptz,
    date_finalized timestamptz,
    latency bigint,
    status text,
    error_code text,
    error_code_description text,
    currency text,
    total_price numeric,
    id text,
    dcs text,
    validity_period bigint,
    ip_address text,
    udh text,
    workflow_id text,
    tier_volume text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sms_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX sms_event_time_idx ON cdr.sms (event_time);
CREATE INDEX sms_account_id_event_time_idx ON cdr.sms (account_id, event_time);
CREATE INDEX sms_status_event_time_idx ON cdr.sms (status, event_time);
CREATE INDEX sms_country_event_time_idx ON cdr.sms (country, event_time);
COMMENT ON TABLE cdr.sms IS 'SMS API messages, inbound and outbound (one row per message part). Status, final time and price of outbound messages can change for up to 72 hours while delivery receipts arrive. Reports API product SMS; one row per record (key: id, event_time = `date_received`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.sms.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: SMS field `account_id`.';
COMMENT ON COLUMN cdr.sms.message_id IS 'Vonage message id (for SMS: one per message part). Source: SMS field `message_id`.';
COMMENT ON COLUMN cdr.sms.account_ref IS 'Your own account reference attached to the message (account_ref), if you set one. Source: SMS field `account_ref`.';
COMMENT ON COLUMN cdr.sms.client_ref IS 'Your own reference attached to the request (client_ref), if you set one. Source: SMS field `client_ref`.';
COMMENT ON COLUMN cdr.sms.direction IS 'inbound (received by you) or outbound (sent by you). Source: SMS field `direction`.';
COMMENT ON COLUMN cdr.sms.from_address IS 'Sender: phone number or alphanumeric sender id (wire field `from`). Source: SMS field `from`.';
COMMENT ON COLUMN cdr.sms.to_address IS 'Recipient number; for inbound SMS your virtual number (wire field `to`). Source: SMS field `to`.';
COMMENT ON COLUMN cdr.sms.forced_from IS 'Number actually used as sender instead of `from` (routing rules). Source: SMS field `forced_from`.';
COMMENT ON COLUMN cdr.sms.changed_from IS 'Sender substituted by number-pool or compliance rules. Source: SMS field `changed_from`.';
COMMENT ON COLUMN cdr.sms.concatenated IS 'Whether the message was sent as several parts; only with show_concatenated=true (outbound). Source: SMS field `concatenated`.';
COMMENT ON COLUMN cdr.sms.message_body IS 'Message text; only filled when the report was requested with include_message=true. Source: SMS field `message_body`.';
COMMENT ON COLUMN cdr.sms.network IS 'Mobile network code (MCC+MNC, e.g. 23410) or a label like US-FIXED. Source: SMS field `network`.';
COMMENT ON COLUMN cdr.sms.network_name IS 'Name of the mobile network, e.g. Telefonica UK Limited. Source: SMS field `network_name`.';
COMMENT ON COLUMN cdr.sms.country IS 'ISO 3166-1 alpha-2 country code of the destination/number, e.g. GB. Source: SMS field `country`.';
COMMENT ON COLUMN cdr.sms.country_name IS 'Country name, e.g. United Kingdom. Source: SMS field `country_name`.';
COMMENT ON COLUMN cdr.sms.date_received IS 'When Vonage received the request (UTC); the Reports API''s date filter applies to it. Source: SMS field `date_received`.';
COMMENT ON COLUMN cdr.sms.date_finalized IS 'When the record reached its final status (e.g. delivery receipt time), UTC. Source: SMS field `date_finalized`.';
COMMENT ON COLUMN cdr.sms.latency IS 'Milliseconds between receipt and final status. Source: SMS field `latency`.';
COMMENT ON COLUMN cdr.sms.status IS 'Delivery status: delivered, expired, failed, rejected, accepted, buffered, unknown, deleted or submitted. Source: SMS field `status`.';
COMMENT ON COLUMN cdr.sms.error_code IS 'Vonage error code (0 or empty when none). Source: SMS field `error_code`.';
COMMENT ON COLUMN cdr.sms.error_code_description IS 'Meaning of error_code, e.g. Delivered. Source: SMS field `error_code_description`.';
COMMENT ON COLUMN cdr.sms.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: SMS field `currency`.';
COMMENT ON COLUMN cdr.sms.total_price IS 'Total cost of this record, in currency (exact decimal). Source: SMS field `total_price`.';
COMMENT ON COLUMN cdr.sms.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: SMS field `id`.';
COMMENT ON COLUMN cdr.sms.dcs IS 'Data coding scheme: 0 text, 8 unicode, 4 binary. Source: SMS field `dcs`.';
COMMENT ON COLUMN cdr.sms.validity_period IS 'How long the network keeps trying to deliver, in milliseconds. Source: SMS field `validity_period`.';
COMMENT ON COLUMN cdr.sms.ip_address IS 'IP address the send request came from. Source: SMS field `ip_address`.';
COMMENT ON COLUMN cdr.sms.udh IS 'User data header (binary messages); not unique. Source: SMS field `udh`.';
COMMENT ON COLUMN cdr.sms.workflow_id IS 'Workflow id when the message was part of a workflow (e.g. SMS converted to RCS). Source: SMS field `workflow_id`.';
COMMENT ON COLUMN cdr.sms.tier_volume IS 'Pricing tier range that applied (e.g. 1-10000); empty when pricing is flat. Source: SMS field `tier_volume`.';
COMMENT ON COLUMN cdr.sms.event_time IS 'Event time of the record (copy of `date_received`); partition key.';
COMMENT ON COLUMN cdr.sms.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.sms._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.sms._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.sms._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.sms._last_changed_at IS 'When a load last changed the row''s values.';

-- SMS-TRAFFIC-CONTROL
CREATE TABLE cdr.sms_traffic_control (
    account_id text,
    id text,
    message_id text,
    queued_time timestamptz,
    queue_duration bigint,
    status text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sms_traffic_control_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX sms_traffic_control_event_time_idx ON cdr.sms_traffic_control (event_time);
CREATE INDEX sms_traffic_control_account_id_event_time_idx ON cdr.sms_traffic_control (account_id, event_time);
CREATE INDEX sms_traffic_control_status_event_time_idx ON cdr.sms_traffic_control (status, event_time);
COMMENT ON TABLE cdr.sms_traffic_control IS 'SMS traffic-control queue events: when an SMS was queued and dequeued by throttling. Reports API product SMS-TRAFFIC-CONTROL; one row per record (key: id, event_time = `queued_time`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.sms_traffic_control.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: SMS-TRAFFIC-CONTROL field `account_id`.';
COMMENT ON COLUMN cdr.sms_traffic_control.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: SMS-TRAFFIC-CONTROL field `id`.';
COMMENT ON COLUMN cdr.sms_traffic_control.message_id IS 'Id of the SMS that was queued. Source: SMS-TRAFFIC-CONTROL field `message_id`.';
COMMENT ON COLUMN cdr.sms_traffic_control.queued_time IS 'When the SMS entered the queue (UTC); assumed date-filter time. Source: SMS-TRAFFIC-CONTROL field `queued_time`.';
COMMENT ON COLUMN cdr.sms_traffic_control.queue_duration IS 'Time the SMS spent in the queue, in milliseconds. Source: SMS-TRAFFIC-CONTROL field `queue_duration`.';
COMMENT ON COLUMN cdr.sms_traffic_control.status IS 'queued or dequeued. Source: SMS-TRAFFIC-CONTROL field `status`.';
COMMENT ON COLUMN cdr.sms_traffic_control.event_time IS 'Event time of the record (copy of `queued_time`); partition key.';
COMMENT ON COLUMN cdr.sms_traffic_control.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.sms_traffic_control._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.sms_traffic_control._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.sms_traffic_control._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.sms_traffic_control._last_changed_at IS 'When a load last changed the row''s values.';

-- VOICE-CALL
CREATE TABLE cdr.voice_call (
    account_id text,
    call_id text,
    direction text,
    from_address text,
    to_address text,
    forced_from text,
    network text,
    network_name text,
    country text,
    country_name text,
    date_start timestamptz,
    date_end timestamptz,
    duration bigint,
    status text,
    status_code text,
    status_description text,
    currency text,
    price numeric,
    total_price numeric,
    tier_volume text,
    id text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT voice_call_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX voice_call_event_time_idx ON cdr.voice_call (event_time);
CREATE INDEX voice_call_account_id_event_time_idx ON cdr.voice_call (account_id, event_time);
CREATE INDEX voice_call_status_event_time_idx ON cdr.voice_call (status, event_time);
CREATE INDEX voice_call_country_event_time_idx ON cdr.voice_call (country, event_time);
COMMENT ON TABLE cdr.voice_call IS 'Voice API call legs that connected (one row per leg). Reports API product VOICE-CALL; one row per record (key: id, event_time = `date_start`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.voice_call.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: VOICE-CALL field `account_id`.';
COMMENT ON COLUMN cdr.voice_call.call_id IS 'Vonage call (leg) UUID. Source: VOICE-CALL field `call_id`.';
COMMENT ON COLUMN cdr.voice_call.direction IS 'inbound (received by you) or outbound (sent by you). Source: VOICE-CALL field `direction`.';
COMMENT ON COLUMN cdr.voice_call.from_address IS 'Sender: phone number or alphanumeric sender id (wire field `from`). Source: VOICE-CALL field `from`.';
COMMENT ON COLUMN cdr.voice_call.to_address IS 'Recipient: phone number, virtual number or address (wire field `to`). Source: VOICE-CALL field `to`.';
COMMENT ON COLUMN cdr.voice_call.forced_from IS 'Number actually used as sender instead of `from` (routing rules). Source: VOICE-CALL field `forced_from`.';
COMMENT ON COLUMN cdr.voice_call.network IS 'Mobile network code (MCC+MNC, e.g. 23410) or a label like US-FIXED. Source: VOICE-CALL field `network`.';
COMMENT ON COLUMN cdr.voice_call.network_name IS 'Name of the mobile network, e.g. Telefonica UK Limited. Source: VOICE-CALL field `network_name`.';
COMMENT ON COLUMN cdr.voice_call.country IS 'ISO 3166-1 alpha-2 country code of the destination/number, e.g. GB. Source: VOICE-CALL field `country`.';
COMMENT ON COLUMN cdr.voice_call.country_name IS 'Country name, e.g. United Kingdom. Source: VOICE-CALL field `country_name`.';
COMMENT ON COLUMN cdr.voice_call.date_start IS 'Call start (UTC); the Reports API''s date filter applies to it. Source: VOICE-CALL field `date_start`.';
COMMENT ON COLUMN cdr.voice_call.date_end IS 'Call end (UTC). Source: VOICE-CALL field `date_end`.';
COMMENT ON COLUMN cdr.voice_call.duration IS 'Call length in seconds. Source: VOICE-CALL field `duration`.';
COMMENT ON COLUMN cdr.voice_call.status IS 'Call status, e.g. ANSWERED (compare case-insensitively). Source: VOICE-CALL field `status`.';
COMMENT ON COLUMN cdr.voice_call.status_code IS 'SIP/HTTP status code of the call, e.g. 200, 480, 486. Source: VOICE-CALL field `status_code`.';
COMMENT ON COLUMN cdr.voice_call.status_description IS 'Human-readable meaning of the status, e.g. Completed or Busy Here. Source: VOICE-CALL field `status_description`.';
COMMENT ON COLUMN cdr.voice_call.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: VOICE-CALL field `currency`.';
COMMENT ON COLUMN cdr.voice_call.price IS 'Per-minute rate, in currency. Source: VOICE-CALL field `price`.';
COMMENT ON COLUMN cdr.voice_call.total_price IS 'Total cost of this record, in currency (exact decimal). Source: VOICE-CALL field `total_price`.';
COMMENT ON COLUMN cdr.voice_call.tier_volume IS 'Pricing tier range that applied (seconds for voice, e.g. 0-60). Source: VOICE-CALL field `tier_volume`.';
COMMENT ON COLUMN cdr.voice_call.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: VOICE-CALL field `id`.';
COMMENT ON COLUMN cdr.voice_call.event_time IS 'Event time of the record (copy of `date_start`); partition key.';
COMMENT ON COLUMN cdr.voice_call.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.voice_call._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.voice_call._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.voice_call._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.voice_call._last_changed_at IS 'When a load last changed the row''s values.';

-- VOICE-FAILED
CREATE TABLE cdr.voice_failed (
    account_id text,
    id text,
    call_id text,
    country text,
    country_name text,
    date_start timestamptz,
    date_end timestamptz,
    direction text,
    from_address text,
    to_address text,
    network text,
    network_name text,
    status text,
    status_code text,
    status_description text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT voice_failed_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX voice_failed_event_time_idx ON cdr.voice_failed (event_time);
CREATE INDEX voice_failed_account_id_event_time_idx ON cdr.voice_failed (account_id, event_time);
CREATE INDEX voice_failed_status_event_time_idx ON cdr.voice_failed (status, event_time);
CREATE INDEX voice_failed_country_event_time_idx ON cdr.voice_failed (country, event_time);
COMMENT ON TABLE cdr.voice_failed IS 'Voice API call attempts that failed (no price, no duration). Reports API product VOICE-FAILED; one row per record (key: id, event_time = `date_start`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.voice_failed.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: VOICE-FAILED field `account_id`.';
COMMENT ON COLUMN cdr.voice_failed.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: VOICE-FAILED field `id`.';
COMMENT ON COLUMN cdr.voice_failed.call_id IS 'Vonage call (leg) UUID. Source: VOICE-FAILED field `call_id`.';
COMMENT ON COLUMN cdr.voice_failed.country IS 'ISO 3166-1 alpha-2 country code of the destination/number, e.g. GB. Source: VOICE-FAILED field `country`.';
COMMENT ON COLUMN cdr.voice_failed.country_name IS 'Country name, e.g. United Kingdom. Source: VOICE-FAILED field `country_name`.';
COMMENT ON COLUMN cdr.voice_failed.date_start IS 'Call attempt start (UTC); the Reports API''s date filter applies to it. Source: VOICE-FAILED field `date_start`.';
COMMENT ON COLUMN cdr.voice_failed.date_end IS 'Call attempt end (UTC). Source: VOICE-FAILED field `date_end`.';
COMMENT ON COLUMN cdr.voice_failed.direction IS 'inbound (received by you) or outbound (sent by you). Source: VOICE-FAILED field `direction`.';
COMMENT ON COLUMN cdr.voice_failed.from_address IS 'Sender: phone number or alphanumeric sender id (wire field `from`). Source: VOICE-FAILED field `from`.';
COMMENT ON COLUMN cdr.voice_failed.to_address IS 'Recipient: phone number, virtual number or address (wire field `to`). Source: VOICE-FAILED field `to`.';
COMMENT ON COLUMN cdr.voice_failed.network IS 'Mobile network code (MCC+MNC, e.g. 23410) or a label like US-FIXED. Source: VOICE-FAILED field `network`.';
COMMENT ON COLUMN cdr.voice_failed.network_name IS 'Name of the mobile network, e.g. Telefonica UK Limited. Source: VOICE-FAILED field `network_name`.';
COMMENT ON COLUMN cdr.voice_failed.status IS 'Always FAILED for this product. Source: VOICE-FAILED field `status`.';
COMMENT ON COLUMN cdr.voice_failed.status_code IS 'SIP/HTTP status code of the call, e.g. 200, 480, 486. Source: VOICE-FAILED field `status_code`.';
COMMENT ON COLUMN cdr.voice_failed.status_description IS 'Human-readable meaning of the status, e.g. Completed or Busy Here. Source: VOICE-FAILED field `status_description`.';
COMMENT ON COLUMN cdr.voice_failed.event_time IS 'Event time of the record (copy of `date_start`); partition key.';
COMMENT ON COLUMN cdr.voice_failed.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.voice_failed._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.voice_failed._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.voice_failed._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.voice_failed._last_changed_at IS 'When a load last changed the row''s values.';

-- VOICE-TTS
CREATE TABLE cdr.voice_tts (
    account_id text,
    id text,
    creation_date timestamptz,
    start_time timestamptz,
    end_time timestamptz,
    duration bigint,
    from_address text,
    to_address text,
    language text,
    length bigint,
    size bigint,
    premium text,
    tts_type text,
    style text,
    status text,
    trace_id text,
    currency text,
    price numeric,
    total_price numeric,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT voice_tts_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX voice_tts_event_time_idx ON cdr.voice_tts (event_time);
CREATE INDEX voice_tts_account_id_event_time_idx ON cdr.voice_tts (account_id, event_time);
CREATE INDEX voice_tts_status_event_time_idx ON cdr.voice_tts (status, event_time);
COMMENT ON TABLE cdr.voice_tts IS 'Text-to-speech usage in voice calls. Reports API product VOICE-TTS; one row per record (key: id, event_time = `creation_date`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.voice_tts.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: VOICE-TTS field `account_id`.';
COMMENT ON COLUMN cdr.voice_tts.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: VOICE-TTS field `id`.';
COMMENT ON COLUMN cdr.voice_tts.creation_date IS 'When the record was created (UTC); assumed date-filter time. Source: VOICE-TTS field `creation_date`.';
COMMENT ON COLUMN cdr.voice_tts.start_time IS 'Speech start (UTC). Source: VOICE-TTS field `start_time`.';
COMMENT ON COLUMN cdr.voice_tts.end_time IS 'Speech end (UTC). Source: VOICE-TTS field `end_time`.';
COMMENT ON COLUMN cdr.voice_tts.duration IS 'Speech length in seconds. Source: VOICE-TTS field `duration`.';
COMMENT ON COLUMN cdr.voice_tts.from_address IS 'Sender: phone number or alphanumeric sender id (wire field `from`). Source: VOICE-TTS field `from`.';
COMMENT ON COLUMN cdr.voice_tts.to_address IS 'Recipient: phone number, virtual number or address (wire field `to`). Source: VOICE-TTS field `to`.';
COMMENT ON COLUMN cdr.voice_tts.language IS 'Speech language (BCP-47), e.g. en-GB. Source: VOICE-TTS field `language`.';
COMMENT ON COLUMN cdr.voice_tts.length IS 'Length of the spoken text, in characters. Source: VOICE-TTS field `length`.';
COMMENT ON COLUMN cdr.voice_tts.size IS 'Size of the generated audio, in bytes. Source: VOICE-TTS field `size`.';
COMMENT ON COLUMN cdr.voice_tts.premium IS 'Deprecated premium flag as sent by Vonage. Source: VOICE-TTS field `premium`.';
COMMENT ON COLUMN cdr.voice_tts.tts_type IS 'standard, premium or premier. Source: VOICE-TTS field `tts_type`.';
COMMENT ON COLUMN cdr.voice_tts.style IS 'Voice style used. Source: VOICE-TTS field `style`.';
COMMENT ON COLUMN cdr.voice_tts.status IS 'Status of the record as reported by Vonage. Source: VOICE-TTS field `status`.';
COMMENT ON COLUMN cdr.voice_tts.trace_id IS 'Vonage trace id for support requests. Source: VOICE-TTS field `trace_id`.';
COMMENT ON COLUMN cdr.voice_tts.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: VOICE-TTS field `currency`.';
COMMENT ON COLUMN cdr.voice_tts.price IS 'Unit price (e.g. per-minute rate for voice), in currency. Source: VOICE-TTS field `price`.';
COMMENT ON COLUMN cdr.voice_tts.total_price IS 'Total cost of this record, in currency (exact decimal). Source: VOICE-TTS field `total_price`.';
COMMENT ON COLUMN cdr.voice_tts.event_time IS 'Event time of the record (copy of `creation_date`); partition key.';
COMMENT ON COLUMN cdr.voice_tts.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.voice_tts._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.voice_tts._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.voice_tts._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.voice_tts._last_changed_at IS 'When a load last changed the row''s values.';

-- IN-APP-VOICE
CREATE TABLE cdr.in_app_voice (
    account_id text,
    request_id text,
    application_id text,
    conversation_id text,
    user_id text,
    leg_id text,
    client_ref text,
    date_start timestamptz,
    date_end timestamptz,
    duration bigint,
    status text,
    currency text,
    price numeric,
    total_price numeric,
    id text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT in_app_voice_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX in_app_voice_event_time_idx ON cdr.in_app_voice (event_time);
CREATE INDEX in_app_voice_account_id_event_time_idx ON cdr.in_app_voice (account_id, event_time);
CREATE INDEX in_app_voice_status_event_time_idx ON cdr.in_app_voice (status, event_time);
COMMENT ON TABLE cdr.in_app_voice IS 'In-app (Client SDK) voice legs. Reports API product IN-APP-VOICE; one row per record (key: id, event_time = `date_start`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.in_app_voice.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: IN-APP-VOICE field `account_id`.';
COMMENT ON COLUMN cdr.in_app_voice.request_id IS 'Vonage request id. Source: IN-APP-VOICE field `request_id`.';
COMMENT ON COLUMN cdr.in_app_voice.application_id IS 'Vonage application that generated the record. Source: IN-APP-VOICE field `application_id`.';
COMMENT ON COLUMN cdr.in_app_voice.conversation_id IS 'Conversation id (CON-...). Source: IN-APP-VOICE field `conversation_id`.';
COMMENT ON COLUMN cdr.in_app_voice.user_id IS 'Conversation user id. Source: IN-APP-VOICE field `user_id`.';
COMMENT ON COLUMN cdr.in_app_voice.leg_id IS 'Call leg id. Source: IN-APP-VOICE field `leg_id`.';
COMMENT ON COLUMN cdr.in_app_voice.client_ref IS 'Your own reference attached to the request (client_ref), if you set one. Source: IN-APP-VOICE field `client_ref`.';
COMMENT ON COLUMN cdr.in_app_voice.date_start IS 'Leg start (UTC); assumed date-filter time. Source: IN-APP-VOICE field `date_start`.';
COMMENT ON COLUMN cdr.in_app_voice.date_end IS 'Leg end (UTC). Source: IN-APP-VOICE field `date_end`.';
COMMENT ON COLUMN cdr.in_app_voice.duration IS 'Leg length in seconds. Source: IN-APP-VOICE field `duration`.';
COMMENT ON COLUMN cdr.in_app_voice.status IS 'Termination status, e.g. 200 or completed. Source: IN-APP-VOICE field `status`.';
COMMENT ON COLUMN cdr.in_app_voice.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: IN-APP-VOICE field `currency`.';
COMMENT ON COLUMN cdr.in_app_voice.price IS 'Unit price (e.g. per-minute rate for voice), in currency. Source: IN-APP-VOICE field `price`.';
COMMENT ON COLUMN cdr.in_app_voice.total_price IS 'Total cost of this record, in currency (exact decimal). Source: IN-APP-VOICE field `total_price`.';
COMMENT ON COLUMN cdr.in_app_voice.id IS 'Id of the related CDR; the primary key together with event_time. Source: IN-APP-VOICE field `id`.';
COMMENT ON COLUMN cdr.in_app_voice.event_time IS 'Event time of the record (copy of `date_start`); partition key.';
COMMENT ON COLUMN cdr.in_app_voice.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.in_app_voice._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.in_app_voice._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.in_app_voice._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.in_app_voice._last_changed_at IS 'When a load last changed the row''s values.';

-- WEBSOCKET-CALL
CREATE TABLE cdr.websocket_call (
    account_id text,
    call_id text,
    date_start timestamptz,
    date_end timestamptz,
    duration bigint,
    status text,
    currency text,
    price numeric,
    total_price numeric,
    id text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT websocket_call_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX websocket_call_event_time_idx ON cdr.websocket_call (event_time);
CREATE INDEX websocket_call_account_id_event_time_idx ON cdr.websocket_call (account_id, event_time);
CREATE INDEX websocket_call_status_event_time_idx ON cdr.websocket_call (status, event_time);
COMMENT ON TABLE cdr.websocket_call IS 'Voice calls connected to a WebSocket endpoint. Reports API product WEBSOCKET-CALL; one row per record (key: id, event_time = `date_start`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.websocket_call.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: WEBSOCKET-CALL field `account_id`.';
COMMENT ON COLUMN cdr.websocket_call.call_id IS 'Vonage call (leg) UUID. Source: WEBSOCKET-CALL field `call_id`.';
COMMENT ON COLUMN cdr.websocket_call.date_start IS 'Connection start (UTC); the date-filter time. Source: WEBSOCKET-CALL field `date_start`.';
COMMENT ON COLUMN cdr.websocket_call.date_end IS 'Connection end (UTC). Source: WEBSOCKET-CALL field `date_end`.';
COMMENT ON COLUMN cdr.websocket_call.duration IS 'Connection length in seconds. Source: WEBSOCKET-CALL field `duration`.';
COMMENT ON COLUMN cdr.websocket_call.status IS 'Connection status, e.g. 200. Source: WEBSOCKET-CALL field `status`.';
COMMENT ON COLUMN cdr.websocket_call.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: WEBSOCKET-CALL field `currency`.';
COMMENT ON COLUMN cdr.websocket_call.price IS 'Unit price (e.g. per-minute rate for voice), in currency. Source: WEBSOCKET-CALL field `price`.';
COMMENT ON COLUMN cdr.websocket_call.total_price IS 'Total cost of this record, in currency (exact decimal). Source: WEBSOCKET-CALL field `total_price`.';
COMMENT ON COLUMN cdr.websocket_call.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: WEBSOCKET-CALL field `id`.';
COMMENT ON COLUMN cdr.websocket_call.event_time IS 'Event time of the record (copy of `date_start`); partition key.';
COMMENT ON COLUMN cdr.websocket_call.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.websocket_call._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.websocket_call._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.websocket_call._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.websocket_call._last_changed_at IS 'When a load last changed the row''s values.';

-- ASR
CREATE TABLE cdr.asr (
    account_id text,
    call_id text,
    direction text,
    from_address text,
    to_address text,
    call_date_start timestamptz,
    date_start timestamptz,
    date_end timestamptz,
    duration bigint,
    status text,
    status_description text,
    currency text,
    price numeric,
    total_price numeric,
    asr_type text,
    id text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT asr_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX asr_event_time_idx ON cdr.asr (event_time);
CREATE INDEX asr_account_id_event_time_idx ON cdr.asr (account_id, event_time);
CREATE INDEX asr_status_event_time_idx ON cdr.asr (status, event_time);
COMMENT ON TABLE cdr.asr IS 'Automatic speech recognition used in voice calls. Reports API product ASR; one row per record (key: id, event_time = `date_start`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.asr.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: ASR field `account_id`.';
COMMENT ON COLUMN cdr.asr.call_id IS 'Vonage call (leg) UUID. Source: ASR field `call_id`.';
COMMENT ON COLUMN cdr.asr.direction IS 'inbound (received by you) or outbound (sent by you). Source: ASR field `direction`.';
COMMENT ON COLUMN cdr.asr.from_address IS 'Sender: phone number or alphanumeric sender id (wire field `from`). Source: ASR field `from`.';
COMMENT ON COLUMN cdr.asr.to_address IS 'Recipient: phone number, virtual number or address (wire field `to`). Source: ASR field `to`.';
COMMENT ON COLUMN cdr.asr.call_date_start IS 'Start of the call the recognition ran in (UTC). Source: ASR field `call_date_start`.';
COMMENT ON COLUMN cdr.asr.date_start IS 'Recognition start (UTC); assumed date-filter time. Source: ASR field `date_start`.';
COMMENT ON COLUMN cdr.asr.date_end IS 'Recognition end (UTC). Source: ASR field `date_end`.';
COMMENT ON COLUMN cdr.asr.duration IS 'Recognition length in seconds. Source: ASR field `duration`.';
COMMENT ON COLUMN cdr.asr.status IS 'ok or error. Source: ASR field `status`.';
COMMENT ON COLUMN cdr.asr.status_description IS 'Human-readable meaning of the status, e.g. Completed or Busy Here. Source: ASR field `status_description`.';
COMMENT ON COLUMN cdr.asr.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: ASR field `currency`.';
COMMENT ON COLUMN cdr.asr.price IS 'Unit price (e.g. per-minute rate for voice), in currency. Source: ASR field `price`.';
COMMENT ON COLUMN cdr.asr.total_price IS 'Total cost of this record, in currency (exact decimal). Source: ASR field `total_price`.';
COMMENT ON COLUMN cdr.asr.asr_type IS 'standard or premier. Source: ASR field `asr_type`.';
COMMENT ON COLUMN cdr.asr.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: ASR field `id`.';
COMMENT ON COLUMN cdr.asr.event_time IS 'Event time of the record (copy of `date_start`); partition key.';
COMMENT ON COLUMN cdr.asr.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.asr._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.asr._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.asr._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.asr._last_changed_at IS 'When a load last changed the row''s values.';

-- AMD
CREATE TABLE cdr.amd (
    account_id text,
    id text,
    call_id text,
    start_time timestamptz,
    end_time timestamptz,
    amd_detection_result text,
    amd_beep_detection_result boolean,
    amd_result_sent text,
    amd_user_defined_mode text,
    amd_user_defined_behavior text,
    amd_user_defined_beep_timeout integer,
    currency text,
    total_price numeric,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT amd_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX amd_event_time_idx ON cdr.amd (event_time);
CREATE INDEX amd_account_id_event_time_idx ON cdr.amd (account_id, event_time);
COMMENT ON TABLE cdr.amd IS 'Answering-machine detection used in voice calls. Reports API product AMD; one row per record (key: id, event_time = `start_time`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.amd.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: AMD field `account_id`.';
COMMENT ON COLUMN cdr.amd.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: AMD field `id`.';
COMMENT ON COLUMN cdr.amd.call_id IS 'Vonage call (leg) UUID. Source: AMD field `call_id`.';
COMMENT ON COLUMN cdr.amd.start_time IS 'Detection start (UTC); assumed date-filter time. Source: AMD field `start_time`.';
COMMENT ON COLUMN cdr.amd.end_time IS 'Detection end (UTC). Source: AMD field `end_time`.';
COMMENT ON COLUMN cdr.amd.amd_detection_result IS 'human or machine. Source: AMD field `amd_detection_result`.';
COMMENT ON COLUMN cdr.amd.amd_beep_detection_result IS 'Whether a voicemail beep was detected. Source: AMD field `amd_beep_detection_result`.';
COMMENT ON COLUMN cdr.amd.amd_result_sent IS 'Whether/which detection result was sent to your application. Source: AMD field `amd_result_sent`.';
COMMENT ON COLUMN cdr.amd.amd_user_defined_mode IS 'Requested mode: default, detect or detect_beep. Source: AMD field `amd_user_defined_mode`.';
COMMENT ON COLUMN cdr.amd.amd_user_defined_behavior IS 'Requested behaviour on machine: hangup or continue. Source: AMD field `amd_user_defined_behavior`.';
COMMENT ON COLUMN cdr.amd.amd_user_defined_beep_timeout IS 'Requested beep timeout in seconds (30-120). Source: AMD field `amd_user_defined_beep_timeout`.';
COMMENT ON COLUMN cdr.amd.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: AMD field `currency`.';
COMMENT ON COLUMN cdr.amd.total_price IS 'Total cost of this record, in currency (exact decimal). Source: AMD field `total_price`.';
COMMENT ON COLUMN cdr.amd.event_time IS 'Event time of the record (copy of `start_time`); partition key.';
COMMENT ON COLUMN cdr.amd.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.amd._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.amd._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.amd._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.amd._last_changed_at IS 'When a load last changed the row''s values.';

-- VERIFY-API
CREATE TABLE cdr.verify_api (
    account_id text,
    request_id text,
    from_address text,
    to_address text,
    locale text,
    number_type text,
    network text,
    network_name text,
    country text,
    country_name text,
    date_received timestamptz,
    date_finalized timestamptz,
    first_event_date timestamptz,
    last_event_date timestamptz,
    verify_status text,
    status text,
    sms_event_count integer,
    tts_event_count integer,
    currency text,
    pricing_model text,
    price numeric,
    estimated_price numeric,
    sms_price numeric,
    tts_price numeric,
    id text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT verify_api_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX verify_api_event_time_idx ON cdr.verify_api (event_time);
CREATE INDEX verify_api_account_id_event_time_idx ON cdr.verify_api (account_id, event_time);
CREATE INDEX verify_api_status_event_time_idx ON cdr.verify_api (status, event_time);
CREATE INDEX verify_api_country_event_time_idx ON cdr.verify_api (country, event_time);
COMMENT ON TABLE cdr.verify_api IS 'Verify (v1) verification requests. Status and counts can change for up to 72 hours. The status arrives as `verify_status` (2021 spec) or `status` (newer SDKs); both are kept. Reports API product VERIFY-API; one row per record (key: id, event_time = `date_received`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.verify_api.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: VERIFY-API field `account_id`.';
COMMENT ON COLUMN cdr.verify_api.request_id IS 'Vonage request id. Source: VERIFY-API field `request_id`.';
COMMENT ON COLUMN cdr.verify_api.from_address IS 'Sender id used for the verification messages (wire field `from`). Source: VERIFY-API field `from`.';
COMMENT ON COLUMN cdr.verify_api.to_address IS 'Phone number being verified (wire field `to`). Source: VERIFY-API field `to`.';
COMMENT ON COLUMN cdr.verify_api.locale IS 'Language/locale used, e.g. en-gb. Source: VERIFY-API field `locale`.';
COMMENT ON COLUMN cdr.verify_api.number_type IS 'Type of the number, e.g. MOBILE. Source: VERIFY-API field `number_type`.';
COMMENT ON COLUMN cdr.verify_api.network IS 'Mobile network code (MCC+MNC, e.g. 23410) or a label like US-FIXED. Source: VERIFY-API field `network`.';
COMMENT ON COLUMN cdr.verify_api.network_name IS 'Name of the mobile network, e.g. Telefonica UK Limited. Source: VERIFY-API field `network_name`.';
COMMENT ON COLUMN cdr.verify_api.country IS 'ISO 3166-1 alpha-2 country code of the destination/number, e.g. GB. Source: VERIFY-API field `country`.';
COMMENT ON COLUMN cdr.verify_api.country_name IS 'Country name, e.g. United Kingdom. Source: VERIFY-API field `country_name`.';
COMMENT ON COLUMN cdr.verify_api.date_received IS 'When the request was received (UTC); assumed date-filter time. Source: VERIFY-API field `date_received`.';
COMMENT ON COLUMN cdr.verify_api.date_finalized IS 'When the verification finished (UTC). Source: VERIFY-API field `date_finalized`.';
COMMENT ON COLUMN cdr.verify_api.first_event_date IS 'First SMS/call sent for the verification (UTC). Source: VERIFY-API field `first_event_date`.';
COMMENT ON COLUMN cdr.verify_api.last_event_date IS 'Last SMS/call sent for the verification (UTC). Source: VERIFY-API field `last_event_date`.';
COMMENT ON COLUMN cdr.verify_api.verify_status IS 'Verification outcome, e.g. SUCCESS (2021 spec name of `status`). Source: VERIFY-API field `verify_status`.';
COMMENT ON COLUMN cdr.verify_api.status IS 'Verification outcome, e.g. SUCCESS (newer name of `verify_status`). Source: VERIFY-API field `status`.';
COMMENT ON COLUMN cdr.verify_api.sms_event_count IS 'Number of SMS sent for this verification. Source: VERIFY-API field `sms_event_count`.';
COMMENT ON COLUMN cdr.verify_api.tts_event_count IS 'Number of voice calls made for this verification. Source: VERIFY-API field `tts_event_count`.';
COMMENT ON COLUMN cdr.verify_api.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: VERIFY-API field `currency`.';
COMMENT ON COLUMN cdr.verify_api.pricing_model IS 'Pricing model applied to the record. Source: VERIFY-API field `pricing_model`.';
COMMENT ON COLUMN cdr.verify_api.price IS 'Price charged for the verification, in currency. Source: VERIFY-API field `price`.';
COMMENT ON COLUMN cdr.verify_api.estimated_price IS 'Price estimated when the request was accepted, in currency. Source: VERIFY-API field `estimated_price`.';
COMMENT ON COLUMN cdr.verify_api.sms_price IS 'Price of the SMS sent, in currency. Source: VERIFY-API field `sms_price`.';
COMMENT ON COLUMN cdr.verify_api.tts_price IS 'Price of the voice calls made, in currency. Source: VERIFY-API field `tts_price`.';
COMMENT ON COLUMN cdr.verify_api.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: VERIFY-API field `id`.';
COMMENT ON COLUMN cdr.verify_api.event_time IS 'Event time of the record (copy of `date_received`); partition key.';
COMMENT ON COLUMN cdr.verify_api.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.verify_api._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.verify_api._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.verify_api._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.verify_api._last_changed_at IS 'When a load last changed the row''s values.';

-- VERIFY-V2
CREATE TABLE cdr.verify_v2 (
    account_id text,
    id text,
    request_id text,
    parent_request_id text,
    channel text,
    client_ref text,
    to_address text,
    country text,
    network text,
    network_name text,
    locale text,
    pin_length integer,
    status text,
    date_received timestamptz,
    sms_event_count integer,
    tts_event_count integer,
    email_event_count integer,
    whatsapp_event_count integer,
    rcs_event_count integer,
    silentauth_event_count integer,
    if_fraud_check boolean,
    currency text,
    total_price numeric,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT verify_v2_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX verify_v2_event_time_idx ON cdr.verify_v2 (event_time);
CREATE INDEX verify_v2_account_id_event_time_idx ON cdr.verify_v2 (account_id, event_time);
CREATE INDEX verify_v2_status_event_time_idx ON cdr.verify_v2 (status, event_time);
CREATE INDEX verify_v2_country_event_time_idx ON cdr.verify_v2 (country, event_time);
COMMENT ON TABLE cdr.verify_v2 IS 'Verify v2 verification requests (one row per channel attempt). Can change for 72 hours. Reports API product VERIFY-V2; one row per record (key: id, event_time = `date_received`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.verify_v2.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: VERIFY-V2 field `account_id`.';
COMMENT ON COLUMN cdr.verify_v2.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: VERIFY-V2 field `id`.';
COMMENT ON COLUMN cdr.verify_v2.request_id IS 'Vonage request id. Source: VERIFY-V2 field `request_id`.';
COMMENT ON COLUMN cdr.verify_v2.parent_request_id IS 'Request this row belongs to (links email/silent_auth rows). Source: VERIFY-V2 field `parent_request_id`.';
COMMENT ON COLUMN cdr.verify_v2.channel IS 'Channel: v2, email or silent_auth. Source: VERIFY-V2 field `channel`.';
COMMENT ON COLUMN cdr.verify_v2.client_ref IS 'Your own reference attached to the request (client_ref), if you set one. Source: VERIFY-V2 field `client_ref`.';
COMMENT ON COLUMN cdr.verify_v2.to_address IS 'Phone number or email address being verified (wire field `to`). Source: VERIFY-V2 field `to`.';
COMMENT ON COLUMN cdr.verify_v2.country IS 'ISO 3166-1 alpha-2 country code of the destination/number, e.g. GB. Source: VERIFY-V2 field `country`.';
COMMENT ON COLUMN cdr.verify_v2.network IS 'Mobile network code (MCC+MNC, e.g. 23410) or a label like US-FIXED. Source: VERIFY-V2 field `network`.';
COMMENT ON COLUMN cdr.verify_v2.network_name IS 'Name of the mobile network, e.g. Telefonica UK Limited. Source: VERIFY-V2 field `network_name`.';
COMMENT ON COLUMN cdr.verify_v2.locale IS 'Language/locale used, e.g. en-gb. Source: VERIFY-V2 field `locale`.';
COMMENT ON COLUMN cdr.verify_v2.pin_length IS 'Length of the code sent. Source: VERIFY-V2 field `pin_length`.';
COMMENT ON COLUMN cdr.verify_v2.status IS 'Verification outcome. Source: VERIFY-V2 field `status`.';
COMMENT ON COLUMN cdr.verify_v2.date_received IS 'When the request was received (UTC); assumed date-filter time. Source: VERIFY-V2 field `date_received`.';
COMMENT ON COLUMN cdr.verify_v2.sms_event_count IS 'Number of SMS sent. Source: VERIFY-V2 field `sms_event_count`.';
COMMENT ON COLUMN cdr.verify_v2.tts_event_count IS 'Number of voice calls made. Source: VERIFY-V2 field `tts_event_count`.';
COMMENT ON COLUMN cdr.verify_v2.email_event_count IS 'Number of emails sent. Source: VERIFY-V2 field `email_event_count`.';
COMMENT ON COLUMN cdr.verify_v2.whatsapp_event_count IS 'Number of WhatsApp messages sent. Source: VERIFY-V2 field `whatsapp_event_count`.';
COMMENT ON COLUMN cdr.verify_v2.rcs_event_count IS 'Number of RCS messages sent. Source: VERIFY-V2 field `rcs_event_count`.';
COMMENT ON COLUMN cdr.verify_v2.silentauth_event_count IS 'Number of silent authentication attempts. Source: VERIFY-V2 field `silentauth_event_count`.';
COMMENT ON COLUMN cdr.verify_v2.if_fraud_check IS 'Whether a fraud check ran. Source: VERIFY-V2 field `if_fraud_check`.';
COMMENT ON COLUMN cdr.verify_v2.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: VERIFY-V2 field `currency`.';
COMMENT ON COLUMN cdr.verify_v2.total_price IS 'Total cost of this record, in currency (exact decimal). Source: VERIFY-V2 field `total_price`.';
COMMENT ON COLUMN cdr.verify_v2.event_time IS 'Event time of the record (copy of `date_received`); partition key.';
COMMENT ON COLUMN cdr.verify_v2.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.verify_v2._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.verify_v2._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.verify_v2._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.verify_v2._last_changed_at IS 'When a load last changed the row''s values.';

-- NUMBER-INSIGHT
CREATE TABLE cdr.number_insight (
    account_id text,
    request_id text,
    product_type text,
    number text,
    date_received timestamptz,
    status text,
    response_code text,
    network text,
    network_name text,
    network_type text,
    country text,
    country_name text,
    valid text,
    ported text,
    reachable text,
    first_name text,
    last_name text,
    currency text,
    total_price numeric,
    id text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT number_insight_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX number_insight_event_time_idx ON cdr.number_insight (event_time);
CREATE INDEX number_insight_account_id_event_time_idx ON cdr.number_insight (account_id, event_time);
CREATE INDEX number_insight_status_event_time_idx ON cdr.number_insight (status, event_time);
CREATE INDEX number_insight_country_event_time_idx ON cdr.number_insight (country, event_time);
COMMENT ON TABLE cdr.number_insight IS 'Number Insight (v1) lookups. Reports API product NUMBER-INSIGHT; one row per record (key: id, event_time = `date_received`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.number_insight.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: NUMBER-INSIGHT field `account_id`.';
COMMENT ON COLUMN cdr.number_insight.request_id IS 'Vonage request id. Source: NUMBER-INSIGHT field `request_id`.';
COMMENT ON COLUMN cdr.number_insight.product_type IS 'Lookup level, e.g. standard or HLR-LOOKUP. Source: NUMBER-INSIGHT field `product_type`.';
COMMENT ON COLUMN cdr.number_insight.number IS 'Phone number looked up. Source: NUMBER-INSIGHT field `number`.';
COMMENT ON COLUMN cdr.number_insight.date_received IS 'When the lookup was requested (UTC); assumed date-filter time. Source: NUMBER-INSIGHT field `date_received`.';
COMMENT ON COLUMN cdr.number_insight.status IS 'Lookup outcome, e.g. Success. Source: NUMBER-INSIGHT field `status`.';
COMMENT ON COLUMN cdr.number_insight.response_code IS 'Lookup response code. Source: NUMBER-INSIGHT field `response_code`.';
COMMENT ON COLUMN cdr.number_insight.network IS 'Mobile network code (MCC+MNC, e.g. 23410) or a label like US-FIXED. Source: NUMBER-INSIGHT field `network`.';
COMMENT ON COLUMN cdr.number_insight.network_name IS 'Name of the mobile network, e.g. Telefonica UK Limited. Source: NUMBER-INSIGHT field `network_name`.';
COMMENT ON COLUMN cdr.number_insight.network_type IS 'Type of network, e.g. mobile. Source: NUMBER-INSIGHT field `network_type`.';
COMMENT ON COLUMN cdr.number_insight.country IS 'ISO 3166-1 alpha-2 country code of the destination/number, e.g. GB. Source: NUMBER-INSIGHT field `country`.';
COMMENT ON COLUMN cdr.number_insight.country_name IS 'Country name, e.g. United Kingdom. Source: NUMBER-INSIGHT field `country_name`.';
COMMENT ON COLUMN cdr.number_insight.valid IS 'Whether the number is valid, as reported by the lookup. Source: NUMBER-INSIGHT field `valid`.';
COMMENT ON COLUMN cdr.number_insight.ported IS 'Porting status, e.g. not_ported. Source: NUMBER-INSIGHT field `ported`.';
COMMENT ON COLUMN cdr.number_insight.reachable IS 'Reachability, e.g. present. Source: NUMBER-INSIGHT field `reachable`.';
COMMENT ON COLUMN cdr.number_insight.first_name IS 'Subscriber first name (advanced lookups, where available). Source: NUMBER-INSIGHT field `first_name`.';
COMMENT ON COLUMN cdr.number_insight.last_name IS 'Subscriber last name (advanced lookups, where available). Source: NUMBER-INSIGHT field `last_name`.';
COMMENT ON COLUMN cdr.number_insight.currency IS 'Currency of total_price; reported to be always empty for this product. Source: NUMBER-INSIGHT field `currency`.';
COMMENT ON COLUMN cdr.number_insight.total_price IS 'Total cost of this record, in currency (exact decimal). Source: NUMBER-INSIGHT field `total_price`.';
COMMENT ON COLUMN cdr.number_insight.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: NUMBER-INSIGHT field `id`.';
COMMENT ON COLUMN cdr.number_insight.event_time IS 'Event time of the record (copy of `date_received`); partition key.';
COMMENT ON COLUMN cdr.number_insight.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.number_insight._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.number_insight._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.number_insight._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.number_insight._last_changed_at IS 'When a load last changed the row''s values.';

-- NUMBER-INSIGHT-V2
CREATE TABLE cdr.number_insight_v2 (
    id text,
    account_id text,
    request_id text,
    request_type text,
    number text,
    date_received timestamptz,
    status text,
    risk text,
    swapped text,
    network text,
    country text,
    currency text,
    total_price numeric,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT number_insight_v2_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX number_insight_v2_event_time_idx ON cdr.number_insight_v2 (event_time);
CREATE INDEX number_insight_v2_account_id_event_time_idx ON cdr.number_insight_v2 (account_id, event_time);
CREATE INDEX number_insight_v2_status_event_time_idx ON cdr.number_insight_v2 (status, event_time);
CREATE INDEX number_insight_v2_country_event_time_idx ON cdr.number_insight_v2 (country, event_time);
COMMENT ON TABLE cdr.number_insight_v2 IS 'Number Insight v2 (fraud score, SIM swap) lookups. No public column list exists: these columns are a minimal guess from the API''s filters; every other field the API sends lands in `extras`. Reports API product NUMBER-INSIGHT-V2; one row per record (key: id, event_time = `date_received`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.number_insight_v2.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: NUMBER-INSIGHT-V2 field `id`.';
COMMENT ON COLUMN cdr.number_insight_v2.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: NUMBER-INSIGHT-V2 field `account_id`.';
COMMENT ON COLUMN cdr.number_insight_v2.request_id IS 'Vonage request id. Source: NUMBER-INSIGHT-V2 field `request_id`.';
COMMENT ON COLUMN cdr.number_insight_v2.request_type IS 'Kind of insight requested, e.g. fraud-score. Source: NUMBER-INSIGHT-V2 field `request_type`.';
COMMENT ON COLUMN cdr.number_insight_v2.number IS 'Phone number looked up. Source: NUMBER-INSIGHT-V2 field `number`.';
COMMENT ON COLUMN cdr.number_insight_v2.date_received IS 'When the lookup was requested (UTC); assumed date-filter time. Source: NUMBER-INSIGHT-V2 field `date_received`.';
COMMENT ON COLUMN cdr.number_insight_v2.status IS 'Lookup outcome. Source: NUMBER-INSIGHT-V2 field `status`.';
COMMENT ON COLUMN cdr.number_insight_v2.risk IS 'Risk level or score returned by the lookup. Source: NUMBER-INSIGHT-V2 field `risk`.';
COMMENT ON COLUMN cdr.number_insight_v2.swapped IS 'SIM-swap result as sent by Vonage. Source: NUMBER-INSIGHT-V2 field `swapped`.';
COMMENT ON COLUMN cdr.number_insight_v2.network IS 'Mobile network code (MCC+MNC, e.g. 23410) or a label like US-FIXED. Source: NUMBER-INSIGHT-V2 field `network`.';
COMMENT ON COLUMN cdr.number_insight_v2.country IS 'ISO 3166-1 alpha-2 country code of the destination/number, e.g. GB. Source: NUMBER-INSIGHT-V2 field `country`.';
COMMENT ON COLUMN cdr.number_insight_v2.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: NUMBER-INSIGHT-V2 field `currency`.';
COMMENT ON COLUMN cdr.number_insight_v2.total_price IS 'Total cost of this record, in currency (exact decimal). Source: NUMBER-INSIGHT-V2 field `total_price`.';
COMMENT ON COLUMN cdr.number_insight_v2.event_time IS 'Event time of the record (copy of `date_received`); partition key.';
COMMENT ON COLUMN cdr.number_insight_v2.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.number_insight_v2._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.number_insight_v2._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.number_insight_v2._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.number_insight_v2._last_changed_at IS 'When a load last changed the row''s values.';

-- MESSAGES
CREATE TABLE cdr.messages (
    account_id text,
    message_id text,
    client_ref text,
    direction text,
    from_address text,
    to_address text,
    message_body text,
    country text,
    country_name text,
    provider text,
    network text,
    network_name text,
    session_type text,
    session_id text,
    date_received timestamptz,
    date_finalized timestamptz,
    latency bigint,
    status text,
    error_code text,
    currency text,
    estimated_price numeric,
    total_price numeric,
    id text,
    pricing_model text,
    pricing_type text,
    provider_error_code text,
    tier_volume text,
    workflow_id text,
    workflow_items_number integer,
    workflow_items_total integer,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT messages_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX messages_event_time_idx ON cdr.messages (event_time);
CREATE INDEX messages_account_id_event_time_idx ON cdr.messages (account_id, event_time);
CREATE INDEX messages_status_event_time_idx ON cdr.messages (status, event_time);
CREATE INDEX messages_country_event_time_idx ON cdr.messages (country, event_time);
COMMENT ON TABLE cdr.messages IS 'Messages API messages on every channel (SMS, MMS, WhatsApp, Viber, Messenger, RCS, email, ...), inbound and outbound. Outbound status and price can change for up to 72 hours. Reports API product MESSAGES; one row per record (key: id, event_time = `date_received`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.messages.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: MESSAGES field `account_id`.';
COMMENT ON COLUMN cdr.messages.message_id IS 'Vonage message id (for SMS: one per message part). Source: MESSAGES field `message_id`.';
COMMENT ON COLUMN cdr.messages.client_ref IS 'Your own reference attached to the request (client_ref), if you set one. Source: MESSAGES field `client_ref`.';
COMMENT ON COLUMN cdr.messages.direction IS 'inbound (received by you) or outbound (sent by you). Source: MESSAGES field `direction`.';
COMMENT ON COLUMN cdr.messages.from_address IS 'Sender: phone number or alphanumeric sender id (wire field `from`). Source: MESSAGES field `from`.';
COMMENT ON COLUMN cdr.messages.to_address IS 'Recipient: phone number, virtual number or address (wire field `to`). Source: MESSAGES field `to`.';
COMMENT ON COLUMN cdr.messages.message_body IS 'Message text; only filled when the report was requested with include_message=true. Source: MESSAGES field `message_body`.';
COMMENT ON COLUMN cdr.messages.country IS 'ISO 3166-1 alpha-2 country code of the destination/number, e.g. GB. Source: MESSAGES field `country`.';
COMMENT ON COLUMN cdr.messages.country_name IS 'Country name, e.g. United Kingdom. Source: MESSAGES field `country_name`.';
COMMENT ON COLUMN cdr.messages.provider IS 'Channel: sms, mms, whatsapp, messenger, viber_service_msg, rcs, instagram or email. Source: MESSAGES field `provider`.';
COMMENT ON COLUMN cdr.messages.network IS 'Mobile network code (MCC+MNC, e.g. 23410) or a label like US-FIXED. Source: MESSAGES field `network`.';
COMMENT ON COLUMN cdr.messages.network_name IS 'Name of the mobile network, e.g. Telefonica UK Limited. Source: MESSAGES field `network_name`.';
COMMENT ON COLUMN cdr.messages.session_type IS 'WhatsApp conversation category: service, marketing or utility. Source: MESSAGES field `session_type`.';
COMMENT ON COLUMN cdr.messages.session_id IS 'WhatsApp conversation (session) id. Source: MESSAGES field `session_id`.';
COMMENT ON COLUMN cdr.messages.date_received IS 'When Vonage received the request (UTC); the Reports API''s date filter applies to it. Source: MESSAGES field `date_received`.';
COMMENT ON COLUMN cdr.messages.date_finalized IS 'When the record reached its final status (e.g. delivery receipt time), UTC. Source: MESSAGES field `date_finalized`.';
COMMENT ON COLUMN cdr.messages.latency IS 'Milliseconds between receipt and final status. Source: MESSAGES field `latency`.';
COMMENT ON COLUMN cdr.messages.status IS 'Message status: delivered, read, rejected, submitted or undeliverable. Source: MESSAGES field `status`.';
COMMENT ON COLUMN cdr.messages.error_code IS 'Vonage error code (0 or empty when none). Source: MESSAGES field `error_code`.';
COMMENT ON COLUMN cdr.messages.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: MESSAGES field `currency`.';
COMMENT ON COLUMN cdr.messages.estimated_price IS 'Price estimated when the request was accepted, in currency. Source: MESSAGES field `estimated_price`.';
COMMENT ON COLUMN cdr.messages.total_price IS 'Total cost of this record, in currency (exact decimal). Source: MESSAGES field `total_price`.';
COMMENT ON COLUMN cdr.messages.id IS 'Unique id of this record (equals message_id); the primary key with event_time. Source: MESSAGES field `id`.';
COMMENT ON COLUMN cdr.messages.pricing_model IS 'Pricing model applied to the record. Source: MESSAGES field `pricing_model`.';
COMMENT ON COLUMN cdr.messages.pricing_type IS 'Pricing type reported by WhatsApp/Meta. Source: MESSAGES field `pricing_type`.';
COMMENT ON COLUMN cdr.messages.provider_error_code IS 'Error code returned by the channel provider. Source: MESSAGES field `provider_error_code`.';
COMMENT ON COLUMN cdr.messages.tier_volume IS 'Pricing tier range that applied (e.g. 1-10000); empty when pricing is flat. Source: MESSAGES field `tier_volume`.';
COMMENT ON COLUMN cdr.messages.workflow_id IS 'Workflow id when the message was part of a workflow (e.g. SMS converted to RCS). Source: MESSAGES field `workflow_id`.';
COMMENT ON COLUMN cdr.messages.workflow_items_number IS 'Position of this message in its workflow. Source: MESSAGES field `workflow_items_number`.';
COMMENT ON COLUMN cdr.messages.workflow_items_total IS 'Number of messages in its workflow. Source: MESSAGES field `workflow_items_total`.';
COMMENT ON COLUMN cdr.messages.event_time IS 'Event time of the record (copy of `date_received`); partition key.';
COMMENT ON COLUMN cdr.messages.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.messages._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.messages._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.messages._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.messages._last_changed_at IS 'When a load last changed the row''s values.';

-- CONVERSATION-EVENT
CREATE TABLE cdr.conversation_event (
    account_id text,
    request_id text,
    application_id text,
    conversation_id text,
    user_id text,
    client_ref text,
    creation_date timestamptz,
    currency text,
    price numeric,
    total_price numeric,
    id text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversation_event_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX conversation_event_event_time_idx ON cdr.conversation_event (event_time);
CREATE INDEX conversation_event_account_id_event_time_idx ON cdr.conversation_event (account_id, event_time);
COMMENT ON TABLE cdr.conversation_event IS 'Conversation API events (replaces the deprecated CONVERSATIONS product). Reports API product CONVERSATION-EVENT; one row per record (key: id, event_time = `creation_date`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.conversation_event.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: CONVERSATION-EVENT field `account_id`.';
COMMENT ON COLUMN cdr.conversation_event.request_id IS 'Vonage request id. Source: CONVERSATION-EVENT field `request_id`.';
COMMENT ON COLUMN cdr.conversation_event.application_id IS 'Vonage application that generated the record. Source: CONVERSATION-EVENT field `application_id`.';
COMMENT ON COLUMN cdr.conversation_event.conversation_id IS 'Conversation id (CON-...). Source: CONVERSATION-EVENT field `conversation_id`.';
COMMENT ON COLUMN cdr.conversation_event.user_id IS 'Conversation user id. Source: CONVERSATION-EVENT field `user_id`.';
COMMENT ON COLUMN cdr.conversation_event.client_ref IS 'Your own reference attached to the request (client_ref), if you set one. Source: CONVERSATION-EVENT field `client_ref`.';
COMMENT ON COLUMN cdr.conversation_event.creation_date IS 'When the event was created (UTC); assumed date-filter time. Source: CONVERSATION-EVENT field `creation_date`.';
COMMENT ON COLUMN cdr.conversation_event.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: CONVERSATION-EVENT field `currency`.';
COMMENT ON COLUMN cdr.conversation_event.price IS 'Unit price (e.g. per-minute rate for voice), in currency. Source: CONVERSATION-EVENT field `price`.';
COMMENT ON COLUMN cdr.conversation_event.total_price IS 'Total cost of this record, in currency (exact decimal). Source: CONVERSATION-EVENT field `total_price`.';
COMMENT ON COLUMN cdr.conversation_event.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: CONVERSATION-EVENT field `id`.';
COMMENT ON COLUMN cdr.conversation_event.event_time IS 'Event time of the record (copy of `creation_date`); partition key.';
COMMENT ON COLUMN cdr.conversation_event.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.conversation_event._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.conversation_event._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.conversation_event._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.conversation_event._last_changed_at IS 'When a load last changed the row''s values.';

-- CONVERSATION-MESSAGE
CREATE TABLE cdr.conversation_message (
    account_id text,
    id text,
    application_id text,
    client_ref text,
    conversation_id text,
    creation_date timestamptz,
    from_channel text,
    from_member_id text,
    from_message_id text,
    from_user_id text,
    other_ids text,
    trace_id text,
    currency text,
    price numeric,
    total_price numeric,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversation_message_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX conversation_message_event_time_idx ON cdr.conversation_message (event_time);
CREATE INDEX conversation_message_account_id_event_time_idx ON cdr.conversation_message (account_id, event_time);
COMMENT ON TABLE cdr.conversation_message IS 'Conversation API messages. Reports API product CONVERSATION-MESSAGE; one row per record (key: id, event_time = `creation_date`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.conversation_message.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: CONVERSATION-MESSAGE field `account_id`.';
COMMENT ON COLUMN cdr.conversation_message.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: CONVERSATION-MESSAGE field `id`.';
COMMENT ON COLUMN cdr.conversation_message.application_id IS 'Vonage application that generated the record. Source: CONVERSATION-MESSAGE field `application_id`.';
COMMENT ON COLUMN cdr.conversation_message.client_ref IS 'Your own reference attached to the request (client_ref), if you set one. Source: CONVERSATION-MESSAGE field `client_ref`.';
COMMENT ON COLUMN cdr.conversation_message.conversation_id IS 'Conversation id (CON-...). Source: CONVERSATION-MESSAGE field `conversation_id`.';
COMMENT ON COLUMN cdr.conversation_message.creation_date IS 'When the message was created (UTC); assumed date-filter time. Source: CONVERSATION-MESSAGE field `creation_date`.';
COMMENT ON COLUMN cdr.conversation_message.from_channel IS 'Channel the message came from, e.g. app. Source: CONVERSATION-MESSAGE field `from_channel`.';
COMMENT ON COLUMN cdr.conversation_message.from_member_id IS 'Conversation member who sent the message. Source: CONVERSATION-MESSAGE field `from_member_id`.';
COMMENT ON COLUMN cdr.conversation_message.from_message_id IS 'Sequence id of the message within the conversation. Source: CONVERSATION-MESSAGE field `from_message_id`.';
COMMENT ON COLUMN cdr.conversation_message.from_user_id IS 'User who sent the message. Source: CONVERSATION-MESSAGE field `from_user_id`.';
COMMENT ON COLUMN cdr.conversation_message.other_ids IS 'Further ids as a JSON fragment, as sent by Vonage. Source: CONVERSATION-MESSAGE field `other_ids`.';
COMMENT ON COLUMN cdr.conversation_message.trace_id IS 'Vonage trace id for support requests. Source: CONVERSATION-MESSAGE field `trace_id`.';
COMMENT ON COLUMN cdr.conversation_message.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: CONVERSATION-MESSAGE field `currency`.';
COMMENT ON COLUMN cdr.conversation_message.price IS 'Unit price (e.g. per-minute rate for voice), in currency. Source: CONVERSATION-MESSAGE field `price`.';
COMMENT ON COLUMN cdr.conversation_message.total_price IS 'Total cost of this record, in currency (exact decimal). Source: CONVERSATION-MESSAGE field `total_price`.';
COMMENT ON COLUMN cdr.conversation_message.event_time IS 'Event time of the record (copy of `creation_date`); partition key.';
COMMENT ON COLUMN cdr.conversation_message.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.conversation_message._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.conversation_message._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.conversation_message._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.conversation_message._last_changed_at IS 'When a load last changed the row''s values.';

-- VIDEO-API
CREATE TABLE cdr.video_api (
    account_id text,
    feature_name text,
    session_id text,
    meeting_id text,
    subscriber_id text,
    archive_id text,
    broadcast_id text,
    hls_id text,
    composer_id text,
    application_id text,
    duration bigint,
    date_start timestamptz,
    date_end timestamptz,
    total_price numeric,
    currency text,
    id text,
    tier_volume text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT video_api_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX video_api_event_time_idx ON cdr.video_api (event_time);
CREATE INDEX video_api_account_id_event_time_idx ON cdr.video_api (account_id, event_time);
COMMENT ON TABLE cdr.video_api IS 'Video API usage events (sessions, subscriber minutes, archiving, broadcasting, HLS, Experience Composer, SIP, audio connector, live captions). Vonage keeps these only 90 days. Reports API product VIDEO-API; one row per record (key: id, event_time = `date_start`), monthly partitions, kept 90 days by Vonage.';
COMMENT ON COLUMN cdr.video_api.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: VIDEO-API field `account_id`.';
COMMENT ON COLUMN cdr.video_api.feature_name IS 'Event type: Video Session, Subscriber minutes, Archiving, Broadcasting, HLS, Experience composer, SIP_Interconnect, Audio_Connector or Live_Captions. Source: VIDEO-API field `feature_name`.';
COMMENT ON COLUMN cdr.video_api.session_id IS 'Video session (virtual room) the event belongs to. Source: VIDEO-API field `session_id`.';
COMMENT ON COLUMN cdr.video_api.meeting_id IS 'Meeting inside the session; a new one starts each time an empty session is joined again. Source: VIDEO-API field `meeting_id`.';
COMMENT ON COLUMN cdr.video_api.subscriber_id IS 'Subscriber (Subscriber minutes and similar events). Source: VIDEO-API field `subscriber_id`.';
COMMENT ON COLUMN cdr.video_api.archive_id IS 'Archive (Archiving events). Source: VIDEO-API field `archive_id`.';
COMMENT ON COLUMN cdr.video_api.broadcast_id IS 'Broadcast (Broadcasting events). Source: VIDEO-API field `broadcast_id`.';
COMMENT ON COLUMN cdr.video_api.hls_id IS 'HLS broadcast (HLS events); equals the broadcast id. Source: VIDEO-API field `hls_id`.';
COMMENT ON COLUMN cdr.video_api.composer_id IS 'Experience Composer (Experience composer events). Source: VIDEO-API field `composer_id`.';
COMMENT ON COLUMN cdr.video_api.application_id IS 'Video application that triggered the event. Source: VIDEO-API field `application_id`.';
COMMENT ON COLUMN cdr.video_api.duration IS 'For timed events, how long the event lasted, in seconds. Source: VIDEO-API field `duration`.';
COMMENT ON COLUMN cdr.video_api.date_start IS 'When the event started (UTC); assumed date-filter time. Source: VIDEO-API field `date_start`.';
COMMENT ON COLUMN cdr.video_api.date_end IS 'When the event ended (UTC); equals date_start for events without duration. Source: VIDEO-API field `date_end`.';
COMMENT ON COLUMN cdr.video_api.total_price IS 'Cost of the event in currency; 0 when free. Source: VIDEO-API field `total_price`.';
COMMENT ON COLUMN cdr.video_api.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: VIDEO-API field `currency`.';
COMMENT ON COLUMN cdr.video_api.id IS 'Event unique id; the primary key together with event_time. Source: VIDEO-API field `id`.';
COMMENT ON COLUMN cdr.video_api.tier_volume IS 'Pricing tier range that applied (e.g. 1-10000); empty when pricing is flat. Source: VIDEO-API field `tier_volume`.';
COMMENT ON COLUMN cdr.video_api.event_time IS 'Event time of the record (copy of `date_start`); partition key.';
COMMENT ON COLUMN cdr.video_api.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.video_api._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.video_api._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.video_api._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.video_api._last_changed_at IS 'When a load last changed the row''s values.';

-- NETWORK-API-EVENT
CREATE TABLE cdr.network_api_event (
    account_id text,
    id text,
    application_id text,
    correlation_id text,
    country_code text,
    msisdn text,
    network text,
    product_name text,
    product_path text,
    request_type text,
    request_session_id text,
    response_result text,
    status text,
    api_event_time timestamptz,
    record_creation_time timestamptz,
    currency text,
    total_price numeric,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT network_api_event_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX network_api_event_event_time_idx ON cdr.network_api_event (event_time);
CREATE INDEX network_api_event_account_id_event_time_idx ON cdr.network_api_event (account_id, event_time);
CREATE INDEX network_api_event_status_event_time_idx ON cdr.network_api_event (status, event_time);
CREATE INDEX network_api_event_country_code_event_time_idx ON cdr.network_api_event (country_code, event_time);
COMMENT ON TABLE cdr.network_api_event IS 'Network API (CAMARA: SIM swap, device status, ...) requests. Reports API product NETWORK-API-EVENT; one row per record (key: id, event_time = `event_time`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.network_api_event.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: NETWORK-API-EVENT field `account_id`.';
COMMENT ON COLUMN cdr.network_api_event.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: NETWORK-API-EVENT field `id`.';
COMMENT ON COLUMN cdr.network_api_event.application_id IS 'Vonage application that generated the record. Source: NETWORK-API-EVENT field `application_id`.';
COMMENT ON COLUMN cdr.network_api_event.correlation_id IS 'Correlation id of the request. Source: NETWORK-API-EVENT field `correlation_id`.';
COMMENT ON COLUMN cdr.network_api_event.country_code IS 'Country of the number checked, as sent by Vonage. Source: NETWORK-API-EVENT field `country_code`.';
COMMENT ON COLUMN cdr.network_api_event.msisdn IS 'Phone number checked. Source: NETWORK-API-EVENT field `msisdn`.';
COMMENT ON COLUMN cdr.network_api_event.network IS 'Mobile network code (MCC+MNC, e.g. 23410) or a label like US-FIXED. Source: NETWORK-API-EVENT field `network`.';
COMMENT ON COLUMN cdr.network_api_event.product_name IS 'Network API used, e.g. camara-sim-swap or camara-device-status. Source: NETWORK-API-EVENT field `product_name`.';
COMMENT ON COLUMN cdr.network_api_event.product_path IS 'API path called, e.g. /camara/sim-swap/v040/check. Source: NETWORK-API-EVENT field `product_path`.';
COMMENT ON COLUMN cdr.network_api_event.request_type IS 'Operation, e.g. check or retrieve-date. Source: NETWORK-API-EVENT field `request_type`.';
COMMENT ON COLUMN cdr.network_api_event.request_session_id IS 'Session id of the request. Source: NETWORK-API-EVENT field `request_session_id`.';
COMMENT ON COLUMN cdr.network_api_event.response_result IS 'Result returned by the network. Source: NETWORK-API-EVENT field `response_result`.';
COMMENT ON COLUMN cdr.network_api_event.status IS 'SUCCESS or FAILED. Source: NETWORK-API-EVENT field `status`.';
COMMENT ON COLUMN cdr.network_api_event.api_event_time IS 'When the request happened (UTC; wire field `event_time`); assumed date-filter time. Source: NETWORK-API-EVENT field `event_time`.';
COMMENT ON COLUMN cdr.network_api_event.record_creation_time IS 'When Vonage created the usage record (UTC). Source: NETWORK-API-EVENT field `record_creation_time`.';
COMMENT ON COLUMN cdr.network_api_event.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: NETWORK-API-EVENT field `currency`.';
COMMENT ON COLUMN cdr.network_api_event.total_price IS 'Total cost of this record, in currency (exact decimal). Source: NETWORK-API-EVENT field `total_price`.';
COMMENT ON COLUMN cdr.network_api_event.event_time IS 'Event time of the record (copy of `event_time`); partition key.';
COMMENT ON COLUMN cdr.network_api_event.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.network_api_event._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.network_api_event._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.network_api_event._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.network_api_event._last_changed_at IS 'When a load last changed the row''s values.';

-- REPORTS-USAGE
CREATE TABLE cdr.reports_usage (
    account_id text,
    id text,
    acc text,
    master_account_id text,
    product_type text,
    request_product text,
    request_params text,
    job_type text,
    date_received timestamptz,
    date_started timestamptz,
    date_finished timestamptz,
    items_written bigint,
    is_charged boolean,
    status text,
    price numeric,
    total_price numeric,
    currency text,
    tier_volume text,
    event_time timestamptz NOT NULL,
    extras jsonb NOT NULL DEFAULT '{}',
    _source text NOT NULL CHECK (_source IN ('async', 'sync')),
    _load_id bigint NOT NULL,
    _first_loaded_at timestamptz NOT NULL DEFAULT now(),
    _last_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reports_usage_pkey PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX reports_usage_event_time_idx ON cdr.reports_usage (event_time);
CREATE INDEX reports_usage_account_id_event_time_idx ON cdr.reports_usage (account_id, event_time);
CREATE INDEX reports_usage_status_event_time_idx ON cdr.reports_usage (status, event_time);
COMMENT ON TABLE cdr.reports_usage IS 'Your own Reports API usage: one row per report or records request, with what it cost. Reports API product REPORTS-USAGE; one row per record (key: id, event_time = `date_received`), monthly partitions, kept 396 days by Vonage.';
COMMENT ON COLUMN cdr.reports_usage.account_id IS 'API key of the account or subaccount the record belongs to (subaccount key). Source: REPORTS-USAGE field `account_id`.';
COMMENT ON COLUMN cdr.reports_usage.id IS 'Unique id of this record in the Reports API; the primary key together with event_time. Source: REPORTS-USAGE field `id`.';
COMMENT ON COLUMN cdr.reports_usage.acc IS 'API key that made the request (may differ from account_id). Source: REPORTS-USAGE field `acc`.';
COMMENT ON COLUMN cdr.reports_usage.master_account_id IS 'Primary account of account_id. Source: REPORTS-USAGE field `master_account_id`.';
COMMENT ON COLUMN cdr.reports_usage.product_type IS 'Always reports. Source: REPORTS-USAGE field `product_type`.';
COMMENT ON COLUMN cdr.reports_usage.request_product IS 'Product the request asked for, e.g. SMS. Source: REPORTS-USAGE field `request_product`.';
COMMENT ON COLUMN cdr.reports_usage.request_params IS 'Parameters of the request as sent by Vonage (JSON text). Source: REPORTS-USAGE field `request_params`.';
COMMENT ON COLUMN cdr.reports_usage.job_type IS 'SYNC_JOB_FROM_ID, SYNC_JOB_FROM_DATES or ASYNC_JOB. Source: REPORTS-USAGE field `job_type`.';
COMMENT ON COLUMN cdr.reports_usage.date_received IS 'When the request was received (UTC); assumed date-filter time. Source: REPORTS-USAGE field `date_received`.';
COMMENT ON COLUMN cdr.reports_usage.date_started IS 'When processing started (UTC). Source: REPORTS-USAGE field `date_started`.';
COMMENT ON COLUMN cdr.reports_usage.date_finished IS 'When processing finished (UTC). Source: REPORTS-USAGE field `date_finished`.';
COMMENT ON COLUMN cdr.reports_usage.items_written IS 'Number of CDRs returned (billed). Source: REPORTS-USAGE field `items_written`.';
COMMENT ON COLUMN cdr.reports_usage.is_charged IS 'Whether the request was charged. Source: REPORTS-USAGE field `is_charged`.';
COMMENT ON COLUMN cdr.reports_usage.status IS 'Status of the record as reported by Vonage. Source: REPORTS-USAGE field `status`.';
COMMENT ON COLUMN cdr.reports_usage.price IS 'Price per CDR, in currency. Source: REPORTS-USAGE field `price`.';
COMMENT ON COLUMN cdr.reports_usage.total_price IS 'Total cost of this record, in currency (exact decimal). Source: REPORTS-USAGE field `total_price`.';
COMMENT ON COLUMN cdr.reports_usage.currency IS 'Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products. Source: REPORTS-USAGE field `currency`.';
COMMENT ON COLUMN cdr.reports_usage.tier_volume IS 'Pricing tier range that applied (e.g. 1-10000); empty when pricing is flat. Source: REPORTS-USAGE field `tier_volume`.';
COMMENT ON COLUMN cdr.reports_usage.event_time IS 'Event time of the record (copy of `date_received`); partition key.';
COMMENT ON COLUMN cdr.reports_usage.extras IS 'Fields the API sent that the registry does not know, keyed by wire name (JSON).';
COMMENT ON COLUMN cdr.reports_usage._source IS 'How the row was last loaded: async (daily CSV report) or sync (incremental JSON).';
COMMENT ON COLUMN cdr.reports_usage._load_id IS 'Load that last wrote the row (cdr.load_ledger.load_id).';
COMMENT ON COLUMN cdr.reports_usage._first_loaded_at IS 'When the row first reached the warehouse.';
COMMENT ON COLUMN cdr.reports_usage._last_changed_at IS 'When a load last changed the row''s values.';

-- Partitions from 13 months back (Vonage's retention) to 2 months ahead; the pipelines call
-- cdr.ensure_partitions for the months after that.
SELECT cdr.ensure_partitions(
    date_trunc('month', now(), 'UTC') - interval '13 months',
    date_trunc('month', now(), 'UTC') + interval '2 months'
);

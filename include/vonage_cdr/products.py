"""The product registry: what each Vonage Reports API product's records look like.

Why a registry: the client, normaliser, loader, SQL migrations and data dictionary all need the
same facts (which column is the record id, which one the date filter applies to, how each wire field is typed
and what it means for an analyst). Keeping them in one typed table of Python objects means a new column or a
new product is one edit here; the migration test proves the SQL tables still match it column for column.

Sources: shared/reference/reports-api-contract.md sections 6 and 7 (real files, 2021/2022 specs, the
2026 Node SDK) and seed 003 (Video API usage). Where the contract marks a fact as inferred (I), the column is
still listed so it lands typed; anything the API sends that is not listed here lands in the table's ``extras``
JSON column instead of being dropped.

Which columns a file must carry (``Product.required_sources``, ``Product.expected_sources``): an absent column
is *unknown*, never NULL, so every column is classified per product:

* **required** - the record's identity and what billing needs: ``account_id`` (billing groups by it), the
  record id ``id``, the event-time column, and the product's price and currency columns (``total_price`` or
  ``price`` and ``currency``; none for VOICE-FAILED and SMS-TRAFFIC-CONTROL, which carry no price). A file
  without one of them is refused with an error naming the file, the product and the columns;
* **optional** - absent from ordinary files by design: ``message_body`` (only with ``include_message``),
  ``concatenated`` (only with ``show_concatenated``), columns only some API versions send (MESSAGES'
  Node-SDK-only pricing/workflow columns, VERIFY-API's newer ``status`` beside ``verify_status``) and the
  guessed NUMBER-INSIGHT-V2 columns. Their absence is not reported;
* **expected** - everything else. Their absence is recorded in the ledger's ``missing_columns``.

For SMS and MESSAGES an inbound file carries fewer columns than an outbound one (contract of each product,
see docs/vonage-reports-api.md); ``inbound_sources`` lists them, so an inbound file is not reported as
missing the outbound-only columns. Whatever the class, a column a file did not carry keeps the value already
stored for the record on a re-load (see :mod:`include.vonage_cdr.warehouse.load`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

ColumnType = Literal["text", "timestamptz", "integer", "bigint", "numeric", "boolean"]
Direction = Literal["required", "optional", "forbidden"]
Presence = Literal["required", "expected", "optional"]

COLUMN_TYPES: tuple[str, ...] = ("text", "timestamptz", "integer", "bigint", "numeric", "boolean")

#: wire names that are SQL reserved words or would confuse an analyst; renamed in PostgreSQL and Parquet.
RENAMED_SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "from": "from_address",
        "to": "to_address",
        # NETWORK-API-EVENT sends its own `event_time`; every table already has an `event_time` partition key.
        "event_time": "api_event_time",
    }
)

#: column names every product table carries besides the registry columns (see the warehouse DDL contract).
TECHNICAL_COLUMNS: tuple[str, ...] = (
    "event_time",
    "extras",
    "_source",
    "_load_id",
    "_first_loaded_at",
    "_last_changed_at",
)


@dataclass(frozen=True)
class Column:
    """One known field of a product's records."""

    source: str  # field name on the wire (CSV header / JSON key), e.g. "from"
    name: str  # column name in PostgreSQL and Parquet, e.g. "from_address"
    type: ColumnType
    description: str  # analyst-facing meaning (goes into the data dictionary)


@dataclass(frozen=True)
class Product:
    """One Reports API product and how its records map onto a warehouse table."""

    name: str
    table: str
    description: str
    direction: Direction
    directions: tuple[str, ...]
    record_id: str
    event_time: str
    columns: tuple[Column, ...]
    #: approximate retention for display; the exact rule is ``retention_months`` when set (calendar months)
    retention_days: int
    settles_within_hours: int
    price_column: str | None
    currency_column: str | None
    status_column: str | None
    country_column: str | None
    from_column: str | None
    to_column: str | None
    network_column: str | None
    #: Vonage keeps records this many calendar months (None: ``retention_days`` days, e.g. VIDEO-API)
    retention_months: int | None = 13
    #: wire columns a file may lack by design (see the module docstring); never reported as missing
    optional_sources: frozenset[str] = frozenset()
    #: wire columns an inbound file carries, for products whose inbound files are narrower (SMS, MESSAGES)
    inbound_sources: frozenset[str] | None = None
    _by_source: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_source", MappingProxyType({c.source: c for c in self.columns}))
        for name in (*self.optional_sources, *(self.inbound_sources or ())):
            if name not in self._by_source:
                raise ValueError(f"product {self.name}: {name!r} is not one of its columns")
        clash = self.optional_sources & set(self.required_sources)
        if clash:
            raise ValueError(f"product {self.name}: {sorted(clash)} cannot be both required and optional")
        if self.inbound_sources is not None and not set(self.required_sources) <= self.inbound_sources:
            raise ValueError(f"product {self.name}: inbound files must carry every required column")

    def column(self, source: str) -> Column:
        """The column for a wire field name; KeyError names the product so the message is actionable."""
        try:
            return self._by_source[source]
        except KeyError:
            raise KeyError(f"product {self.name} has no known column {source!r}") from None

    def has_column(self, source: str) -> bool:
        return source in self._by_source

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(c.source for c in self.columns)

    @property
    def record_id_column(self) -> Column:
        return self.column(self.record_id)

    @property
    def event_time_column(self) -> Column:
        return self.column(self.event_time)

    @property
    def required_sources(self) -> tuple[str, ...]:
        """Wire columns without which a file is refused: identity (account, id, event time) and billing."""
        wanted = {"account_id", self.record_id, self.event_time, self.price_column, self.currency_column}
        return tuple(c.source for c in self.columns if c.source in wanted)

    def presence(self, source: str) -> Presence:
        if source in self.required_sources:
            return "required"
        return "optional" if source in self.optional_sources else "expected"

    def expected_sources(self, direction: str | None = None) -> tuple[str, ...]:
        """Wire columns an ordinary file of this product (and direction) carries: required and expected ones.

        ``missing_columns`` in the ledger lists exactly those of them a file lacked.
        """
        names = [c.source for c in self.columns if c.source not in self.optional_sources]
        if direction == "inbound" and self.inbound_sources is not None:
            names = [n for n in names if n in self.inbound_sources]
        return tuple(names)


# Descriptions shared by many products; a product may override any of them.
_COMMON: dict[str, str] = {
    "account_id": "API key of the account or subaccount the record belongs to (subaccount key).",
    "id": "Unique id of this record in the Reports API; the primary key together with event_time.",
    "message_id": "Vonage message id (for SMS: one per message part).",
    "client_ref": "Your own reference attached to the request (client_ref), if you set one.",
    "account_ref": "Your own account reference attached to the message (account_ref), if you set one.",
    "direction": "inbound (received by you) or outbound (sent by you).",
    "from": "Sender: phone number or alphanumeric sender id (wire field `from`).",
    "to": "Recipient: phone number, virtual number or address (wire field `to`).",
    "network": "Mobile network code (MCC+MNC, e.g. 23410) or a label like US-FIXED.",
    "network_name": "Name of the mobile network, e.g. Telefonica UK Limited.",
    "country": "ISO 3166-1 alpha-2 country code of the destination/number, e.g. GB.",
    "country_name": "Country name, e.g. United Kingdom.",
    "date_received": "When Vonage received the request (UTC); the Reports API's date filter applies to it.",
    "date_finalized": "When the record reached its final status (e.g. delivery receipt time), UTC.",
    "date_start": "Start time (UTC).",
    "date_end": "End time (UTC).",
    "latency": "Milliseconds between receipt and final status.",
    "status": "Status of the record as reported by Vonage.",
    "error_code": "Vonage error code (0 or empty when none).",
    "error_code_description": "Meaning of error_code, e.g. Delivered.",
    "currency": "Currency of the price columns (ISO 4217, e.g. EUR); may be empty for some products.",
    "price": "Unit price (e.g. per-minute rate for voice), in currency.",
    "total_price": "Total cost of this record, in currency (exact decimal).",
    "estimated_price": "Price estimated when the request was accepted, in currency.",
    "tier_volume": "Pricing tier range that applied (e.g. 1-10000); empty when pricing is flat.",
    "call_id": "Vonage call (leg) UUID.",
    "duration": "Length in seconds.",
    "status_description": "Human-readable meaning of the status, e.g. Completed or Busy Here.",
    "status_code": "SIP/HTTP status code of the call, e.g. 200, 480, 486.",
    "forced_from": "Number actually used as sender instead of `from` (routing rules).",
    "application_id": "Vonage application that generated the record.",
    "conversation_id": "Conversation id (CON-...).",
    "user_id": "Conversation user id.",
    "request_id": "Vonage request id.",
    "creation_date": "When the record was created (UTC).",
    "leg_id": "Call leg id.",
    "trace_id": "Vonage trace id for support requests.",
    "message_body": "Message text; only filled when the report was requested with include_message=true.",
    "provider": "Channel: sms, mms, whatsapp, messenger, viber_service_msg, rcs, instagram or email.",
    "workflow_id": "Workflow id when the message was part of a workflow (e.g. SMS converted to RCS).",
    "locale": "Language/locale used, e.g. en-gb.",
    "pricing_model": "Pricing model applied to the record.",
}


# Types of the shared wire fields, so that "total_price" is numeric wherever it appears.
_COMMON_TYPES: dict[str, ColumnType] = {
    "date_received": "timestamptz",
    "date_finalized": "timestamptz",
    "date_start": "timestamptz",
    "date_end": "timestamptz",
    "creation_date": "timestamptz",
    "latency": "bigint",
    "duration": "bigint",
    "price": "numeric",
    "total_price": "numeric",
    "estimated_price": "numeric",
}


def _col(source: str, type_: ColumnType | None = None, description: str | None = None) -> Column:
    text = description if description is not None else _COMMON.get(source)
    if text is None:
        raise ValueError(f"column {source!r} needs a description")
    resolved: ColumnType = type_ or _COMMON_TYPES.get(source, "text")
    return Column(source=source, name=RENAMED_SOURCES.get(source, source), type=resolved, description=text)


def _cols(*specs: str | tuple[str, ColumnType] | tuple[str, ColumnType, str]) -> tuple[Column, ...]:
    """Columns from compact specs: "name" (text, common description) or (name, type[, description])."""
    out: list[Column] = []
    for spec in specs:
        out.append(_col(spec) if isinstance(spec, str) else _col(*spec))
    return tuple(out)


_TS: ColumnType = "timestamptz"
_NUM: ColumnType = "numeric"
_BIG: ColumnType = "bigint"
_INT: ColumnType = "integer"
_BOOL: ColumnType = "boolean"

_FULL_RETENTION = 396  # 13 months
_SETTLES = 72  # hours until status/price of an SMS/message/verification can still change [D10]


def _product(
    *,
    name: str,
    table: str,
    description: str,
    direction: Direction,
    columns: tuple[Column, ...],
    event_time: str,
    retention_days: int = _FULL_RETENTION,
    retention_months: int | None = 13,
    settles_within_hours: int = 0,
    price_column: str | None = "total_price",
    currency_column: str | None = "currency",
    status_column: str | None = "status",
    country_column: str | None = None,
    from_column: str | None = None,
    to_column: str | None = None,
    network_column: str | None = None,
    optional: tuple[str, ...] = (),
    inbound: tuple[str, ...] | None = None,
) -> Product:
    return Product(
        name=name,
        table=table,
        description=description,
        direction=direction,
        directions=("inbound", "outbound") if direction == "required" else (),
        record_id="id",
        event_time=event_time,
        columns=columns,
        retention_days=retention_days,
        settles_within_hours=settles_within_hours,
        price_column=price_column,
        currency_column=currency_column,
        status_column=status_column,
        country_column=country_column,
        from_column=from_column,
        to_column=to_column,
        network_column=network_column,
        retention_months=retention_months,
        optional_sources=frozenset(optional),
        inbound_sources=None if inbound is None else frozenset(inbound),
    )


_PRODUCT_LIST: tuple[Product, ...] = (
    _product(
        name="SMS",
        table="sms",
        optional=("concatenated", "message_body"),  # only with show_concatenated / include_message
        inbound=(
            "account_id",
            "message_id",
            "direction",
            "from",
            "to",
            "message_body",
            "network",
            "network_name",
            "country",
            "country_name",
            "date_received",
            "currency",
            "total_price",
            "id",
            "tier_volume",
        ),
        description=(
            "SMS API messages, inbound and outbound (one row per message part). Status, final time and price "
            "of outbound messages can change for up to 72 hours while delivery receipts arrive."
        ),
        direction="required",
        event_time="date_received",
        settles_within_hours=_SETTLES,
        country_column="country",
        from_column="from",
        to_column="to",
        network_column="network",
        columns=_cols(
            "account_id",
            "message_id",
            "account_ref",
            "client_ref",
            "direction",
            "from",
            ("to", "text", "Recipient number; for inbound SMS your virtual number (wire field `to`)."),
            "forced_from",
            ("changed_from", "text", "Sender substituted by number-pool or compliance rules."),
            (
                "concatenated",
                _BOOL,
                "Whether the message was sent as several parts; only with show_concatenated=true (outbound).",
            ),
            "message_body",
            "network",
            "network_name",
            "country",
            "country_name",
            "date_received",
            "date_finalized",
            ("latency", _BIG),
            (
                "status",
                "text",
                "Delivery status: delivered, expired, failed, rejected, accepted, buffered, unknown, deleted "
                "or submitted.",
            ),
            "error_code",
            "error_code_description",
            "currency",
            "total_price",
            "id",
            ("dcs", "text", "Data coding scheme: 0 text, 8 unicode, 4 binary."),
            ("validity_period", _BIG, "How long the network keeps trying to deliver, in milliseconds."),
            ("ip_address", "text", "IP address the send request came from."),
            ("udh", "text", "User data header (binary messages); not unique."),
            "workflow_id",
            "tier_volume",
        ),
    ),
    _product(
        name="SMS-TRAFFIC-CONTROL",
        table="sms_traffic_control",
        description="SMS traffic-control queue events: when an SMS was queued and dequeued by throttling.",
        direction="forbidden",
        event_time="queued_time",
        price_column=None,
        currency_column=None,
        columns=_cols(
            "account_id",
            "id",
            ("message_id", "text", "Id of the SMS that was queued."),
            ("queued_time", _TS, "When the SMS entered the queue (UTC); assumed date-filter time."),
            ("queue_duration", _BIG, "Time the SMS spent in the queue, in milliseconds."),
            ("status", "text", "queued or dequeued."),
        ),
    ),
    _product(
        name="VOICE-CALL",
        table="voice_call",
        description="Voice API call legs that connected (one row per leg).",
        direction="optional",
        event_time="date_start",
        country_column="country",
        from_column="from",
        to_column="to",
        network_column="network",
        columns=_cols(
            "account_id",
            "call_id",
            "direction",
            "from",
            "to",
            "forced_from",
            "network",
            "network_name",
            "country",
            "country_name",
            ("date_start", _TS, "Call start (UTC); the Reports API's date filter applies to it."),
            ("date_end", _TS, "Call end (UTC)."),
            ("duration", _BIG, "Call length in seconds."),
            ("status", "text", "Call status, e.g. ANSWERED (compare case-insensitively)."),
            "status_code",
            "status_description",
            "currency",
            ("price", _NUM, "Per-minute rate, in currency."),
            "total_price",
            ("tier_volume", "text", "Pricing tier range that applied (seconds for voice, e.g. 0-60)."),
            "id",
        ),
    ),
    _product(
        name="VOICE-FAILED",
        table="voice_failed",
        description="Voice API call attempts that failed (no price, no duration).",
        direction="optional",
        event_time="date_start",
        price_column=None,
        currency_column=None,
        country_column="country",
        from_column="from",
        to_column="to",
        network_column="network",
        columns=_cols(
            "account_id",
            "id",
            "call_id",
            "country",
            "country_name",
            ("date_start", _TS, "Call attempt start (UTC); the Reports API's date filter applies to it."),
            ("date_end", _TS, "Call attempt end (UTC)."),
            "direction",
            "from",
            "to",
            "network",
            "network_name",
            ("status", "text", "Always FAILED for this product."),
            "status_code",
            "status_description",
        ),
    ),
    _product(
        name="VOICE-TTS",
        table="voice_tts",
        description="Text-to-speech usage in voice calls.",
        direction="forbidden",
        event_time="creation_date",
        from_column="from",
        to_column="to",
        columns=_cols(
            "account_id",
            "id",
            ("creation_date", _TS, "When the record was created (UTC); assumed date-filter time."),
            ("start_time", _TS, "Speech start (UTC)."),
            ("end_time", _TS, "Speech end (UTC)."),
            ("duration", _BIG, "Speech length in seconds."),
            "from",
            "to",
            ("language", "text", "Speech language (BCP-47), e.g. en-GB."),
            ("length", _BIG, "Length of the spoken text, in characters."),
            ("size", _BIG, "Size of the generated audio, in bytes."),
            ("premium", "text", "Deprecated premium flag as sent by Vonage."),
            ("tts_type", "text", "standard, premium or premier."),
            ("style", "text", "Voice style used."),
            "status",
            "trace_id",
            "currency",
            "price",
            "total_price",
        ),
    ),
    _product(
        name="IN-APP-VOICE",
        table="in_app_voice",
        description="In-app (Client SDK) voice legs.",
        direction="forbidden",
        event_time="date_start",
        columns=_cols(
            "account_id",
            "request_id",
            "application_id",
            "conversation_id",
            "user_id",
            "leg_id",
            "client_ref",
            ("date_start", _TS, "Leg start (UTC); assumed date-filter time."),
            ("date_end", _TS, "Leg end (UTC)."),
            ("duration", _BIG, "Leg length in seconds."),
            ("status", "text", "Termination status, e.g. 200 or completed."),
            "currency",
            ("price", _NUM),
            "total_price",
            ("id", "text", "Id of the related CDR; the primary key together with event_time."),
        ),
    ),
    _product(
        name="WEBSOCKET-CALL",
        table="websocket_call",
        description="Voice calls connected to a WebSocket endpoint.",
        direction="forbidden",
        event_time="date_start",
        columns=_cols(
            "account_id",
            "call_id",
            ("date_start", _TS, "Connection start (UTC); the date-filter time."),
            ("date_end", _TS, "Connection end (UTC)."),
            ("duration", _BIG, "Connection length in seconds."),
            ("status", "text", "Connection status, e.g. 200."),
            "currency",
            ("price", _NUM),
            "total_price",
            "id",
        ),
    ),
    _product(
        name="ASR",
        table="asr",
        description="Automatic speech recognition used in voice calls.",
        direction="optional",
        event_time="date_start",
        from_column="from",
        to_column="to",
        columns=_cols(
            "account_id",
            "call_id",
            "direction",
            "from",
            "to",
            ("call_date_start", _TS, "Start of the call the recognition ran in (UTC)."),
            ("date_start", _TS, "Recognition start (UTC); assumed date-filter time."),
            ("date_end", _TS, "Recognition end (UTC)."),
            ("duration", _BIG, "Recognition length in seconds."),
            ("status", "text", "ok or error."),
            "status_description",
            "currency",
            ("price", _NUM),
            "total_price",
            ("asr_type", "text", "standard or premier."),
            "id",
        ),
    ),
    _product(
        name="AMD",
        table="amd",
        description="Answering-machine detection used in voice calls.",
        direction="optional",
        event_time="start_time",
        status_column=None,
        columns=_cols(
            "account_id",
            "id",
            "call_id",
            ("start_time", _TS, "Detection start (UTC); assumed date-filter time."),
            ("end_time", _TS, "Detection end (UTC)."),
            ("amd_detection_result", "text", "human or machine."),
            ("amd_beep_detection_result", _BOOL, "Whether a voicemail beep was detected."),
            ("amd_result_sent", "text", "Whether/which detection result was sent to your application."),
            ("amd_user_defined_mode", "text", "Requested mode: default, detect or detect_beep."),
            ("amd_user_defined_behavior", "text", "Requested behaviour on machine: hangup or continue."),
            ("amd_user_defined_beep_timeout", _INT, "Requested beep timeout in seconds (30-120)."),
            "currency",
            "total_price",
        ),
    ),
    _product(
        name="VERIFY-API",
        table="verify_api",
        optional=("status",),  # newer name of verify_status, unconfirmed: files carry one or the other
        description=(
            "Verify (v1) verification requests. Status and counts can change for up to 72 hours. The status "
            "arrives as `verify_status` (2021 spec) or `status` (newer SDKs); both are kept."
        ),
        direction="forbidden",
        event_time="date_received",
        settles_within_hours=_SETTLES,
        price_column="price",
        status_column="status",
        country_column="country",
        from_column="from",
        to_column="to",
        network_column="network",
        columns=_cols(
            "account_id",
            "request_id",
            ("from", "text", "Sender id used for the verification messages (wire field `from`)."),
            ("to", "text", "Phone number being verified (wire field `to`)."),
            "locale",
            ("number_type", "text", "Type of the number, e.g. MOBILE."),
            "network",
            "network_name",
            "country",
            "country_name",
            (
                "date_received",
                _TS,
                "When the request was received (UTC); assumed date-filter time.",
            ),
            ("date_finalized", _TS, "When the verification finished (UTC)."),
            ("first_event_date", _TS, "First SMS/call sent for the verification (UTC)."),
            ("last_event_date", _TS, "Last SMS/call sent for the verification (UTC)."),
            ("verify_status", "text", "Verification outcome, e.g. SUCCESS (2021 spec name of `status`)."),
            ("status", "text", "Verification outcome, e.g. SUCCESS (newer name of `verify_status`)."),
            ("sms_event_count", _INT, "Number of SMS sent for this verification."),
            ("tts_event_count", _INT, "Number of voice calls made for this verification."),
            "currency",
            "pricing_model",
            ("price", _NUM, "Price charged for the verification, in currency."),
            ("estimated_price", _NUM),
            ("sms_price", _NUM, "Price of the SMS sent, in currency."),
            ("tts_price", _NUM, "Price of the voice calls made, in currency."),
            "id",
        ),
    ),
    _product(
        name="VERIFY-V2",
        table="verify_v2",
        description="Verify v2 verification requests (one row per channel attempt). Can change for 72 hours.",
        direction="forbidden",
        event_time="date_received",
        settles_within_hours=_SETTLES,
        country_column="country",
        to_column="to",
        network_column="network",
        columns=_cols(
            "account_id",
            "id",
            "request_id",
            ("parent_request_id", "text", "Request this row belongs to (links email/silent_auth rows)."),
            ("channel", "text", "Channel: v2, email or silent_auth."),
            "client_ref",
            ("to", "text", "Phone number or email address being verified (wire field `to`)."),
            "country",
            "network",
            "network_name",
            "locale",
            ("pin_length", _INT, "Length of the code sent."),
            ("status", "text", "Verification outcome."),
            (
                "date_received",
                _TS,
                "When the request was received (UTC); assumed date-filter time.",
            ),
            ("sms_event_count", _INT, "Number of SMS sent."),
            ("tts_event_count", _INT, "Number of voice calls made."),
            ("email_event_count", _INT, "Number of emails sent."),
            ("whatsapp_event_count", _INT, "Number of WhatsApp messages sent."),
            ("rcs_event_count", _INT, "Number of RCS messages sent."),
            ("silentauth_event_count", _INT, "Number of silent authentication attempts."),
            ("if_fraud_check", _BOOL, "Whether a fraud check ran."),
            "currency",
            "total_price",
        ),
    ),
    _product(
        name="NUMBER-INSIGHT",
        table="number_insight",
        description="Number Insight (v1) lookups.",
        direction="forbidden",
        event_time="date_received",
        country_column="country",
        network_column="network",
        columns=_cols(
            "account_id",
            "request_id",
            ("product_type", "text", "Lookup level, e.g. standard or HLR-LOOKUP."),
            ("number", "text", "Phone number looked up."),
            (
                "date_received",
                _TS,
                "When the lookup was requested (UTC); assumed date-filter time.",
            ),
            ("status", "text", "Lookup outcome, e.g. Success."),
            ("response_code", "text", "Lookup response code."),
            "network",
            "network_name",
            ("network_type", "text", "Type of network, e.g. mobile."),
            "country",
            "country_name",
            ("valid", "text", "Whether the number is valid, as reported by the lookup."),
            ("ported", "text", "Porting status, e.g. not_ported."),
            ("reachable", "text", "Reachability, e.g. present."),
            ("first_name", "text", "Subscriber first name (advanced lookups, where available)."),
            ("last_name", "text", "Subscriber last name (advanced lookups, where available)."),
            ("currency", "text", "Currency of total_price; reported to be always empty for this product."),
            "total_price",
            "id",
        ),
    ),
    _product(
        name="NUMBER-INSIGHT-V2",
        table="number_insight_v2",
        optional=("request_id", "request_type", "number", "status", "risk", "swapped", "network", "country"),
        description=(
            "Number Insight v2 (fraud score, SIM swap) lookups. No public column list exists: these columns "
            "are a minimal guess from the API's filters; every other field the API sends lands in `extras`."
        ),
        direction="forbidden",
        event_time="date_received",
        country_column="country",
        network_column="network",
        columns=_cols(
            "id",
            "account_id",
            "request_id",
            ("request_type", "text", "Kind of insight requested, e.g. fraud-score."),
            ("number", "text", "Phone number looked up."),
            (
                "date_received",
                _TS,
                "When the lookup was requested (UTC); assumed date-filter time.",
            ),
            ("status", "text", "Lookup outcome."),
            ("risk", "text", "Risk level or score returned by the lookup."),
            ("swapped", "text", "SIM-swap result as sent by Vonage."),
            "network",
            "country",
            "currency",
            "total_price",
        ),
    ),
    _product(
        name="MESSAGES",
        table="messages",
        optional=(
            "message_body",  # only with include_message
            # sent only by newer API versions (Node SDK), not in real 2025 files:
            "pricing_model",
            "pricing_type",
            "provider_error_code",
            "tier_volume",
            "workflow_id",
            "workflow_items_number",
            "workflow_items_total",
        ),
        inbound=(
            "account_id",
            "message_id",
            "direction",
            "from",
            "to",
            "message_body",
            "provider",
            "network",
            "network_name",
            "date_received",
            "currency",
            "total_price",
            "tier_volume",
            "id",
        ),
        description=(
            "Messages API messages on every channel (SMS, MMS, WhatsApp, Viber, Messenger, RCS, email, ...), "
            "inbound and outbound. Outbound status and price can change for up to 72 hours."
        ),
        direction="required",
        event_time="date_received",
        settles_within_hours=_SETTLES,
        country_column="country",
        from_column="from",
        to_column="to",
        network_column="network",
        columns=_cols(
            "account_id",
            "message_id",
            "client_ref",
            "direction",
            "from",
            "to",
            "message_body",
            "country",
            "country_name",
            "provider",
            "network",
            "network_name",
            ("session_type", "text", "WhatsApp conversation category: service, marketing or utility."),
            ("session_id", "text", "WhatsApp conversation (session) id."),
            "date_received",
            "date_finalized",
            ("latency", _BIG),
            ("status", "text", "Message status: delivered, read, rejected, submitted or undeliverable."),
            "error_code",
            "currency",
            ("estimated_price", _NUM),
            "total_price",
            ("id", "text", "Unique id of this record (equals message_id); the primary key with event_time."),
            "pricing_model",
            ("pricing_type", "text", "Pricing type reported by WhatsApp/Meta."),
            ("provider_error_code", "text", "Error code returned by the channel provider."),
            "tier_volume",
            "workflow_id",
            ("workflow_items_number", _INT, "Position of this message in its workflow."),
            ("workflow_items_total", _INT, "Number of messages in its workflow."),
        ),
    ),
    _product(
        name="CONVERSATION-EVENT",
        table="conversation_event",
        description="Conversation API events (replaces the deprecated CONVERSATIONS product).",
        direction="forbidden",
        event_time="creation_date",
        status_column=None,
        columns=_cols(
            "account_id",
            "request_id",
            "application_id",
            "conversation_id",
            "user_id",
            "client_ref",
            ("creation_date", _TS, "When the event was created (UTC); assumed date-filter time."),
            "currency",
            ("price", _NUM),
            "total_price",
            "id",
        ),
    ),
    _product(
        name="CONVERSATION-MESSAGE",
        table="conversation_message",
        description="Conversation API messages.",
        direction="forbidden",
        event_time="creation_date",
        status_column=None,
        columns=_cols(
            "account_id",
            "id",
            "application_id",
            "client_ref",
            "conversation_id",
            ("creation_date", _TS, "When the message was created (UTC); assumed date-filter time."),
            ("from_channel", "text", "Channel the message came from, e.g. app."),
            ("from_member_id", "text", "Conversation member who sent the message."),
            ("from_message_id", "text", "Sequence id of the message within the conversation."),
            ("from_user_id", "text", "User who sent the message."),
            ("other_ids", "text", "Further ids as a JSON fragment, as sent by Vonage."),
            "trace_id",
            "currency",
            ("price", _NUM),
            "total_price",
        ),
    ),
    _product(
        name="VIDEO-API",
        table="video_api",
        description=(
            "Video API usage events (sessions, subscriber minutes, archiving, broadcasting, HLS, Experience "
            "Composer, SIP, audio connector, live captions). Vonage keeps these only 90 days."
        ),
        direction="forbidden",
        event_time="date_start",
        retention_days=90,
        retention_months=None,
        status_column=None,
        columns=_cols(
            "account_id",
            (
                "feature_name",
                "text",
                "Event type: Video Session, Subscriber minutes, Archiving, Broadcasting, HLS, Experience "
                "composer, SIP_Interconnect, Audio_Connector or Live_Captions.",
            ),
            ("session_id", "text", "Video session (virtual room) the event belongs to."),
            (
                "meeting_id",
                "text",
                "Meeting inside the session; a new one starts each time an empty session is joined again.",
            ),
            ("subscriber_id", "text", "Subscriber (Subscriber minutes and similar events)."),
            ("archive_id", "text", "Archive (Archiving events)."),
            ("broadcast_id", "text", "Broadcast (Broadcasting events)."),
            ("hls_id", "text", "HLS broadcast (HLS events); equals the broadcast id."),
            ("composer_id", "text", "Experience Composer (Experience composer events)."),
            ("application_id", "text", "Video application that triggered the event."),
            ("duration", _BIG, "For timed events, how long the event lasted, in seconds."),
            ("date_start", _TS, "When the event started (UTC); assumed date-filter time."),
            ("date_end", _TS, "When the event ended (UTC); equals date_start for events without duration."),
            ("total_price", _NUM, "Cost of the event in currency; 0 when free."),
            "currency",
            ("id", "text", "Event unique id; the primary key together with event_time."),
            "tier_volume",
        ),
    ),
    _product(
        name="NETWORK-API-EVENT",
        table="network_api_event",
        description="Network API (CAMARA: SIM swap, device status, ...) requests.",
        direction="forbidden",
        event_time="event_time",
        country_column="country_code",
        network_column="network",
        columns=_cols(
            "account_id",
            "id",
            "application_id",
            ("correlation_id", "text", "Correlation id of the request."),
            ("country_code", "text", "Country of the number checked, as sent by Vonage."),
            ("msisdn", "text", "Phone number checked."),
            "network",
            ("product_name", "text", "Network API used, e.g. camara-sim-swap or camara-device-status."),
            ("product_path", "text", "API path called, e.g. /camara/sim-swap/v040/check."),
            ("request_type", "text", "Operation, e.g. check or retrieve-date."),
            ("request_session_id", "text", "Session id of the request."),
            ("response_result", "text", "Result returned by the network."),
            ("status", "text", "SUCCESS or FAILED."),
            (
                "event_time",
                _TS,
                "When the request happened (UTC; wire field `event_time`); assumed date-filter time.",
            ),
            ("record_creation_time", _TS, "When Vonage created the usage record (UTC)."),
            "currency",
            "total_price",
        ),
    ),
    _product(
        name="REPORTS-USAGE",
        table="reports_usage",
        description="Your own Reports API usage: one row per report or records request, with what it cost.",
        direction="forbidden",
        event_time="date_received",
        columns=_cols(
            "account_id",
            "id",
            ("acc", "text", "API key that made the request (may differ from account_id)."),
            ("master_account_id", "text", "Primary account of account_id."),
            ("product_type", "text", "Always reports."),
            ("request_product", "text", "Product the request asked for, e.g. SMS."),
            ("request_params", "text", "Parameters of the request as sent by Vonage (JSON text)."),
            ("job_type", "text", "SYNC_JOB_FROM_ID, SYNC_JOB_FROM_DATES or ASYNC_JOB."),
            (
                "date_received",
                _TS,
                "When the request was received (UTC); assumed date-filter time.",
            ),
            ("date_started", _TS, "When processing started (UTC)."),
            ("date_finished", _TS, "When processing finished (UTC)."),
            ("items_written", _BIG, "Number of CDRs returned (billed)."),
            ("is_charged", _BOOL, "Whether the request was charged."),
            "status",
            ("price", _NUM, "Price per CDR, in currency."),
            "total_price",
            "currency",
            "tier_volume",
        ),
    ),
)

PRODUCTS: Mapping[str, Product] = MappingProxyType({p.name: p for p in _PRODUCT_LIST})

DEFAULT_PRODUCTS: tuple[str, ...] = (
    "SMS",
    "MESSAGES",
    "VOICE-CALL",
    "CONVERSATION-EVENT",
    "VERIFY-API",
    "NUMBER-INSIGHT",
    "VIDEO-API",
)


def get_product(name: str) -> Product:
    """The registry entry for an API product name (case-insensitive); KeyError lists the valid names."""
    product = PRODUCTS.get(name) or PRODUCTS.get(name.strip().upper())
    if product is None:
        raise KeyError(f"unknown product {name!r}; known products: {', '.join(PRODUCTS)}")
    return product

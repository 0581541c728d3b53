"""Per-product facts: CSV/JSON columns, event-time column, direction rule, filters, mutability.

Why: each product has its own columns and request rules (docs/vonage-reports-api.md, Direction and filters,
CSV file format, Record ids and event times); keeping them as data in one table lets validation, generation,
the sync endpoint and the file writer agree.

Timestamp style per product (docs/vonage-reports-api.md, Timestamps: clients must accept both): products whose
public examples come from the 2020-2021 era use `+0000` (SMS, VOICE-*, WEBSOCKET-CALL, ASR, IN-APP-VOICE,
VERIFY-API, NUMBER-INSIGHT); products documented from 2021+ examples or real 2025 files use `+00:00`
(MESSAGES, CONVERSATION-*, VERIFY-V2, NUMBER-INSIGHT-V2, VIDEO-API, NETWORK-API-EVENT, REPORTS-USAGE,
SMS-TRAFFIC-CONTROL, AMD, VOICE-TTS, CONVERSATIONS, MEETINGS).
"""

# ruff: noqa: E501  (column/value tables read better one record per line)
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DirectionRule = Literal["required", "optional", "forbidden"]

BASE_PARAMS = frozenset({"product", "account_id", "date_start", "date_end"})
ASYNC_ONLY_PARAMS = frozenset({"include_subaccounts", "callback_url"})
SYNC_ONLY_PARAMS = frozenset({"id", "cursor", "iv"})
ID_MODE_PARAMS = frozenset(
    {"product", "account_id", "direction", "id", "include_message", "show_concatenated"}
)
BOOL_PARAMS = frozenset({"include_subaccounts", "include_message", "show_concatenated"})


@dataclass(frozen=True)
class ProductSpec:
    name: str
    columns: tuple[str, ...]  # outbound (or only) view, before optional columns are removed
    event_col: str
    direction: DirectionRule
    filters: frozenset[str]
    ts_style: str  # "+0000" or "+00:00"
    inbound_columns: tuple[str, ...] = ()
    # outbound records change status for up to 72 h (docs/vonage-reports-api.md, Records that change later)
    mutable: bool = False
    retention_days: int = 0  # 0 = 13 calendar months
    natural_id: str | None = None  # second column `id` lookups match (message_id, call_id, request_id)
    legacy: bool = False  # only with SimulatorConfig.legacy_products

    def view_columns(
        self, direction: str | None, include_message: bool, show_concatenated: bool
    ) -> list[str]:
        cols = self.inbound_columns if direction == "inbound" and self.inbound_columns else self.columns
        out = []
        for c in cols:
            if c == "message_body" and not include_message:
                continue
            if c == "concatenated" and not show_concatenated:
                continue
            out.append(c)
        return out


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


_O = "+0000"
_N = "+00:00"
_VOICE_FILTERS = _f("call_id", "status", "from", "to", "country", "network")

PRODUCTS: dict[str, ProductSpec] = {
    p.name: p
    for p in [
        ProductSpec(
            "SMS",
            (
                "account_id", "message_id", "account_ref", "client_ref", "direction", "from", "to",
                "forced_from", "changed_from", "concatenated", "message_body", "network", "network_name",
                "country", "country_name", "date_received", "date_finalized", "latency", "status",
                "error_code", "error_code_description", "currency", "total_price", "id", "dcs",
                "validity_period", "ip_address", "udh", "workflow_id", "tier_volume",
            ),
            "date_received", "required",
            _f("status", "from", "to", "country", "network", "client_ref", "account_ref", "include_message",
               "show_concatenated"),
            _O,
            inbound_columns=(
                "account_id", "message_id", "direction", "from", "to", "message_body", "network", "network_name",
                "country", "country_name", "date_received", "currency", "total_price", "id", "tier_volume",
            ),
            mutable=True, natural_id="message_id",
        ),
        ProductSpec(
            "SMS-TRAFFIC-CONTROL",
            ("account_id", "id", "message_id", "queued_time", "queue_duration", "status"),
            "queued_time", "forbidden", _f(), _N,
        ),
        ProductSpec(
            "MESSAGES",
            (
                "account_id", "message_id", "client_ref", "direction", "from", "to", "message_body", "country",
                "country_name", "provider", "network", "network_name", "session_type", "session_id",
                "date_received", "date_finalized", "latency", "status", "error_code", "currency",
                "estimated_price", "total_price", "id",
            ),
            "date_received", "required",
            _f("status", "provider", "from", "to", "country", "include_message"),
            _N,
            inbound_columns=(
                "account_id", "message_id", "direction", "from", "to", "message_body", "provider", "network",
                "network_name", "date_received", "currency", "total_price", "tier_volume", "id",
            ),
            mutable=True, natural_id="message_id",
        ),
        ProductSpec(
            "VOICE-CALL",
            (
                "account_id", "call_id", "direction", "from", "to", "forced_from", "network", "network_name",
                "country", "country_name", "date_start", "date_end", "duration", "status", "status_code",
                "status_description", "currency", "price", "total_price", "tier_volume", "id",
            ),
            "date_start", "optional", _VOICE_FILTERS, _O, natural_id="call_id",
        ),
        ProductSpec(
            "VOICE-FAILED",
            (
                "account_id", "id", "call_id", "country", "country_name", "date_start", "date_end", "direction",
                "from", "to", "network", "network_name", "status", "status_code", "status_description",
            ),
            "date_start", "optional", _VOICE_FILTERS, _O, natural_id="call_id",
        ),
        ProductSpec(
            "VOICE-TTS",
            (
                "account_id", "id", "creation_date", "start_time", "end_time", "duration", "from", "to",
                "language", "length", "size", "premium", "tts_type", "style", "status", "trace_id", "currency",
                "price", "total_price",
            ),
            "creation_date", "forbidden", _f(), _N,
        ),
        ProductSpec(
            "IN-APP-VOICE",
            (
                "account_id", "request_id", "application_id", "conversation_id", "user_id", "leg_id",
                "client_ref", "date_start", "date_end", "duration", "status", "currency", "price",
                "total_price", "id",
            ),
            "date_start", "forbidden", _f("conversation_id", "leg_id", "status"), _O,
        ),
        ProductSpec(
            "WEBSOCKET-CALL",
            ("account_id", "call_id", "date_start", "date_end", "duration", "status", "currency", "price",
             "total_price", "id"),
            "date_start", "forbidden", _f("call_id", "status"), _O, natural_id="call_id",
        ),
        ProductSpec(
            "ASR",
            (
                "account_id", "call_id", "direction", "from", "to", "call_date_start", "date_start", "date_end",
                "duration", "status", "status_description", "currency", "price", "total_price", "asr_type", "id",
            ),
            "date_start", "optional", _f("call_id", "from", "to", "status"), _O, natural_id="call_id",
        ),
        ProductSpec(
            "AMD",
            (
                "account_id", "id", "call_id", "start_time", "end_time", "amd_detection_result",
                "amd_beep_detection_result", "amd_result_sent", "amd_user_defined_mode",
                "amd_user_defined_behavior", "amd_user_defined_beep_timeout", "currency", "total_price",
            ),
            "start_time", "forbidden", _f("call_id", "from", "to"), _N, natural_id="call_id",
        ),
        ProductSpec(
            "VERIFY-API",
            (
                "account_id", "request_id", "from", "to", "locale", "number_type", "network", "network_name",
                "country", "country_name", "date_received", "date_finalized", "first_event_date",
                "last_event_date", "verify_status", "sms_event_count", "tts_event_count", "currency",
                "pricing_model", "price", "estimated_price", "sms_price", "tts_price", "id",
            ),
            "date_received", "forbidden", _f("to", "network", "country", "locale", "number_type"), _O,
            mutable=True, natural_id="request_id",
        ),
        ProductSpec(
            "VERIFY-V2",
            (
                "account_id", "id", "request_id", "parent_request_id", "channel", "client_ref", "to", "country",
                "network", "network_name", "locale", "pin_length", "status", "date_received", "date_finalized",
                "sms_event_count", "tts_event_count", "email_event_count", "whatsapp_event_count",
                "rcs_event_count", "silentauth_event_count", "if_fraud_check", "currency", "total_price",
            ),
            "date_received", "forbidden",
            _f("channel", "parent_request_id", "locale", "status", "to", "country", "network"), _N,
            mutable=True, natural_id="request_id",
        ),
        ProductSpec(
            "NUMBER-INSIGHT",
            (
                "account_id", "request_id", "product_type", "number", "date_received", "status", "response_code",
                "network", "network_name", "network_type", "country", "country_name", "valid", "ported",
                "reachable", "first_name", "last_name", "currency", "total_price", "id",
            ),
            "date_received", "forbidden", _f("number", "network", "country"), _O, natural_id="request_id",
        ),
        # Invented (no public column list); documented in README.md.
        ProductSpec(
            "NUMBER-INSIGHT-V2",
            (
                "account_id", "id", "request_id", "request_type", "number", "date_received", "status", "risk",
                "risk_score", "swapped", "network", "network_name", "country", "country_name", "currency",
                "total_price",
            ),
            "date_received", "forbidden",
            _f("number", "request_type", "risk", "swapped", "status", "country", "network"), _N,
            natural_id="request_id",
        ),
        ProductSpec(
            "CONVERSATION-EVENT",
            ("account_id", "request_id", "application_id", "conversation_id", "user_id", "client_ref",
             "creation_date", "currency", "price", "total_price", "id"),
            "creation_date", "forbidden", _f("conversation_id", "status"), _N,
        ),
        ProductSpec(
            "CONVERSATION-MESSAGE",
            ("account_id", "id", "application_id", "client_ref", "conversation_id", "creation_date",
             "from_channel", "from_member_id", "from_message_id", "from_user_id", "other_ids", "trace_id",
             "currency", "price", "total_price"),
            "creation_date", "forbidden", _f("conversation_id"), _N,
        ),
        ProductSpec(
            "VIDEO-API",
            ("account_id", "feature_name", "session_id", "meeting_id", "subscriber_id", "archive_id",
             "broadcast_id", "hls_id", "composer_id", "application_id", "duration", "date_start", "date_end",
             "total_price", "currency", "tier_volume", "id"),
            "date_start", "forbidden", _f("session_id", "meeting_id"), _N, retention_days=90,
        ),
        ProductSpec(
            "NETWORK-API-EVENT",
            ("account_id", "id", "application_id", "correlation_id", "country_code", "msisdn", "network",
             "product_name", "product_path", "request_type", "request_session_id", "response_result",
             "status", "event_time", "record_creation_time", "currency", "total_price"),
            "event_time", "forbidden",
            _f("product_name", "request_type", "request_session_id", "product_path", "correlation_id",
               "country", "network"),
            _N,
        ),
        ProductSpec(
            "REPORTS-USAGE",
            ("account_id", "id", "acc", "master_account_id", "product_type", "request_product",
             "request_params", "job_type", "date_received", "date_started", "date_finished", "items_written",
             "is_charged", "status", "price", "total_price", "currency", "tier_volume"),
            "date_received", "forbidden", _f(), _N,
        ),
        ProductSpec(
            "CONVERSATIONS",
            ("account_id", "request_id", "application_id", "conversation_id", "user_id", "client_ref",
             "creation_date", "currency", "price", "total_price", "id"),
            "creation_date", "forbidden", _f("conversation_id", "status"), _N, legacy=True,
        ),
        # Invented (one portal snapshot only, docs/vonage-reports-api.md, Products); behind the legacy flag.
        ProductSpec(
            "MEETINGS",
            ("account_id", "id", "room_id", "meeting_id", "date_start", "date_end", "duration",
             "participants", "currency", "total_price"),
            "date_start", "forbidden", _f("room_id"), _N, legacy=True,
        ),
    ]
}  # fmt: skip

RECOMMENDED_PRODUCTS: tuple[str, ...] = tuple(p for p, s in PRODUCTS.items() if not s.legacy)
PRODUCT_CODES: dict[str, int] = {p: i + 1 for i, p in enumerate(PRODUCTS)}
CODE_PRODUCTS: dict[int, str] = {v: k for k, v in PRODUCT_CODES.items()}


def directions_of(spec: ProductSpec) -> tuple[str, ...]:
    """Directions a product's records carry (inbound/outbound for SMS, MESSAGES and optional voice)."""
    return ("outbound", "inbound") if spec.direction != "forbidden" else ("",)

"""Validate simulator responses against the official OpenAPI files, with the fewest named relaxations.

The newest non-draft spec (2.2.2, 2022-02) is the reference; the 2022-04 draft is used for what only it
describes (sync `from`/`to` query params, at most 20 ids). The spec contradicts its own examples, so a
small list of RELAXATIONS (each citing a section of docs/vonage-reports-api.md) rewrites the schema
before validation; everything else is validated strictly by openapi-schema-validator (OAS 3.0 + formats).
Products absent from the 2022 spec (SMS-TRAFFIC-CONTROL, VOICE-TTS, AMD, VERIFY-V2, NUMBER-INSIGHT-V2,
CONVERSATION-EVENT, CONVERSATION-MESSAGE, VIDEO-API, NETWORK-API-EVENT) and the record-less sync
products (VOICE-FAILED, REPORTS-USAGE) are validated against the shared envelope schemas only
(report_response_top_level / report_response, records = objects of strings).
"""

# ruff: noqa: E501  (request/expectation tables read better one case per line)
from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

# Vonage's official OpenAPI files, vendored unmodified (source, version and licence in the folder's README).
REF = Path(__file__).resolve().parents[2] / "docs" / "reference" / "openapi"
SPEC_FILE = REF / "vonage-reports-openapi-2.2.2-2022-02.yml"
DRAFT_FILE = REF / "vonage-reports-openapi-2.2.2-draft-2022-04.yml"
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$"
NUMERIC_STRING = r"^-?\d+(\.\d+)?$"


@dataclass(frozen=True)
class Relaxation:
    name: str
    reason: str


RELAXATIONS: tuple[Relaxation, ...] = (
    Relaxation("timestamps-not-dates",
               "Schemas say `format: date` but the descriptions and every example carry ISO-8601 timestamps "
               "with `+0000` or `+00:00` (docs/vonage-reports-api.md, Timestamps): format date -> "
               "timestamp pattern."),
    Relaxation("record-numbers-as-strings",
               "Inside records numbers are strings on the wire (docs/vonage-reports-api.md, Numbers on the wire): "
               "integer/number record fields accept numeric strings. Top-level sync `price` stays a number."),
    Relaxation("record-empty-values",
               "Empty record values are \"\" (docs/vonage-reports-api.md, Empty values): any record field may be \"\"."),
    Relaxation("client-ref-length",
               "client_ref/account_ref minLength = maxLength = 40 is a documented spec error; simulator "
               "accepts up to 100 (docs/vonage-reports-api.md, open question 14)."),
    Relaxation("record-status-values",
               "Record status values differ from the filter enums: voice rows are ANSWERED/FAILED "
               "(docs/vonage-reports-api.md, open question 7) and SMS also has submitted/deleted "
               "(docs/vonage-reports-api.md, Status values)."),
    Relaxation("concatenated-true-false",
               "`concatenated` is declared boolean but the wire value is TRUE/FALSE "
               "(docs/vonage-reports-api.md, Numbers on the wire)."),
    Relaxation("oneof-selected-by-product",
               "The response oneOf branches are not mutually exclusive (every product_* enum lists all "
               "products, error branches have no required fields), so a valid body matches several; the "
               "branch is selected by product/direction like a discriminator (docs/vonage-reports-api.md, "
               "open question 4: trust the flat shape) and validated strictly."),
)  # fmt: skip

_RECORD_SCHEMAS = {
    ("SMS", "outbound"): "json_sms_outbound_with_body", ("SMS", "inbound"): "json_sms_inbound_with_body",
    ("VOICE-CALL", None): "csv_voice", ("IN-APP-VOICE", None): "csv_in_app_voice",
    ("WEBSOCKET-CALL", None): "csv_websockets", ("VERIFY-API", None): "csv_verify", ("NUMBER-INSIGHT", None): "csv_ni",
    ("MESSAGES", "outbound"): "csv_messages_outbound", ("MESSAGES", "inbound"): "csv_messages_inbound",
    ("ASR", None): "csv_asr", ("CONVERSATIONS", None): "csv_conversations",
}  # fmt: skip
_CSV_SCHEMAS = {
    **_RECORD_SCHEMAS,
    ("SMS", "outbound"): "csv_sms_outbound",
    ("SMS", "inbound"): "csv_sms_inbound",
}
# index of each product's branch in components.responses.json_record_response oneOf
_SYNC_BRANCH = {("SMS", "outbound"): 0, ("SMS", "inbound"): 1, ("VOICE-CALL", None): 2, ("IN-APP-VOICE", None): 3,
                ("WEBSOCKET-CALL", None): 4, ("VERIFY-API", None): 5, ("NUMBER-INSIGHT", None): 6,
                ("MESSAGES", "outbound"): 7, ("MESSAGES", "inbound"): 8, ("ASR", None): 9,
                ("CONVERSATIONS", None): 10}  # fmt: skip
_REPORT_SCHEMAS = {"SMS": "sms", "VOICE-CALL": "voice_call", "IN-APP-VOICE": "in_app_voice",
                   "WEBSOCKET-CALL": "websocket_call", "VERIFY-API": "verify_api", "NUMBER-INSIGHT": "number_insight",
                   "MESSAGES": "messages", "CONVERSATIONS": "conversations", "ASR": "asr"}  # fmt: skip


def _walk(node: Any, fn: Any) -> None:
    if isinstance(node, dict):
        fn(node)
        for v in node.values():
            _walk(v, fn)
    elif isinstance(node, list):
        for v in node:
            _walk(v, fn)


def _relax(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]

    def timestamps(node: dict[str, Any]) -> None:  # timestamps-not-dates
        if node.get("format") == "date":
            node.pop("format")
            node["pattern"] = TIMESTAMP

    _walk(spec, timestamps)
    for name in ("client_ref", "account_ref"):  # client-ref-length
        schemas[name].pop("minLength", None)
        schemas[name]["maxLength"] = 100
    schemas["sms_status_record"] = {**schemas["sms_status"], "enum": [*schemas["sms_status"]["enum"],  # record-status-values
                                                                       "submitted", "deleted"]}  # fmt: skip
    schemas["voice_status_record"] = {"type": "string", "enum": ["ANSWERED", "FAILED", "MACHINE", "ERROR"]}
    schemas["concatenated_record"] = {"type": "string", "enum": ["TRUE", "FALSE"]}  # concatenated-true-false
    record_names = [n for n in schemas if n.startswith(("csv_", "json_sms"))]
    for name in record_names:
        props = schemas[name].get("properties") or {}
        for part in schemas[name].get("allOf", []):
            props = {**props, **part.get("properties", {})}
        for pname, prop in list(props.items()):
            ref = prop.get("$ref", "")
            target = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else prop
            new: dict[str, Any] = prop
            if ref.endswith("/sms_status"):
                new = {"$ref": "#/components/schemas/sms_status_record"}
            elif ref.endswith("/voice_status"):
                new = {"$ref": "#/components/schemas/voice_status_record"}
            elif ref.endswith("/concatenated"):
                new = {"$ref": "#/components/schemas/concatenated_record"}
            elif target.get("type") in ("integer", "number"):  # record-numbers-as-strings
                new = {"type": "string", "pattern": NUMERIC_STRING}
            relaxed = {"anyOf": [new, {"type": "string", "enum": [""]}]}  # record-empty-values
            if "properties" in schemas[name] and pname in schemas[name]["properties"]:
                schemas[name]["properties"][pname] = relaxed
            for part in schemas[name].get("allOf", []):
                if pname in part.get("properties", {}):
                    part["properties"][pname] = relaxed
    return spec


@cache
def relaxed_spec() -> dict[str, Any]:
    return _relax(yaml.safe_load(SPEC_FILE.read_text()))


@cache
def draft_spec() -> dict[str, Any]:
    return yaml.safe_load(DRAFT_FILE.read_text())


def _validator(schema: dict[str, Any]) -> OAS30Validator:
    root = {**schema, "components": relaxed_spec()["components"]}
    return OAS30Validator(root, format_checker=oas30_format_checker)


def errors(schema: dict[str, Any], instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator(schema).iter_errors(instance)
    ]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _key(product: str, direction: str | None) -> tuple[str, str | None]:
    return (product, direction if product in ("SMS", "MESSAGES") else None)


_GENERIC_RECORDS = {"type": "object", "required": ["records", "items_count", "request_status"],
                    "properties": {"records": {"type": "array", "items": {
                        "type": "object", "additionalProperties": {"type": "string"}, "required": ["id"]}},
                        "items_count": {"type": "integer"}}}  # fmt: skip


def sync_errors(body: dict[str, Any]) -> list[str]:
    """Errors of a 200 `GET /v2/reports/records` body (branch of json_record_response by product)."""
    key = _key(body["product"], body.get("direction"))
    shape = errors(_GENERIC_RECORDS, body)
    if key in _SYNC_BRANCH:
        oneof = relaxed_spec()["components"]["responses"]["json_record_response"]["content"][
            "application/json"
        ]
        return shape + errors(oneof["schema"]["oneOf"][_SYNC_BRANCH[key]], body)
    return shape + errors(_ref("report_response_top_level"), body)


def record_errors(
    product: str, direction: str | None, record: dict[str, str], csv: bool = False
) -> list[str]:
    table = _CSV_SCHEMAS if csv else _RECORD_SCHEMAS
    key = _key(product, direction)
    generic = {"type": "object", "additionalProperties": {"type": "string"}, "required": ["id"]}
    return errors(generic, record) + (errors(_ref(table[key]), record) if key in table else [])


def report_errors(body: dict[str, Any], *, created: bool = False) -> list[str]:
    """Errors of a report object (create response, status, cancel, callback, list item)."""
    stem = _REPORT_SCHEMAS.get(body["product"])
    suffix = "create_report" if created else "get_report"
    generic = "report_response_create_report" if created else "report_response"
    flat = {"type": "object", "required": ["request_id", "request_status", "product", "account_id", "_links"]}
    if stem is None:  # newer product: the shared envelope; its `product` enum predates the product
        return errors(flat, body) + errors(_ref(generic), {**body, "product": "SMS"})
    return errors(flat, body) + errors(_ref(f"{stem}_response_{suffix}"), body)


def list_errors(body: dict[str, Any]) -> list[str]:
    schema = relaxed_spec()["components"]["responses"]["list_report_response"]["content"]["application/json"]
    shell = copy.deepcopy(schema["schema"])
    shell["properties"]["reports"]["items"] = {"type": "object"}  # items: oneOf-free check below per product
    out = errors(shell, body)
    for r in body.get("reports", []):
        out += report_errors(r)
    return out


def error_errors(path: str, method: str, status: int, body: dict[str, Any]) -> list[str]:
    """Errors of a problem body against the operation's documented response for `status`."""
    op = relaxed_spec()["paths"][path][method]
    resp = op["responses"][str(status)]
    if "$ref" in resp:
        resp = relaxed_spec()["components"]["responses"][resp["$ref"].rsplit("/", 1)[-1]]
    schema = copy.deepcopy(resp["content"]["application/json"]["schema"])
    if "oneOf" in schema:  # oneof-selected-by-product: pick the branch by its distinguishing fields
        branches = schema["oneOf"]
        schema = branches[2] if body.get("title") == "Invalid filter" else branches[0]
    problem = {"type": "object", "required": ["type", "title", "detail", "instance"],
               "properties": {"instance": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}}  # fmt: skip
    return errors(problem, body) + errors(schema, body)


def documented_media_type() -> str:
    resp = relaxed_spec()["components"]["responses"]["csv_report_response"]
    return next(iter(resp["content"]))


def draft_sync_param_names() -> set[str]:
    return {p["name"] for p in draft_spec()["paths"]["/v2/reports/records"]["get"]["parameters"]}

"""One function per product that turns (per-record PRNG, event time, context) into a record dict.

Why: the columns come from products.py; these functions give them plausible, internally consistent
values (E.164 numbers matching the country, prices = rate x duration, date_end = date_start + duration).
Mutable products (SMS/MESSAGES outbound, VERIFY-API, VERIFY-V2) derive their status, date_finalized and
sometimes price from `as_of`, so a re-read after the final delivery receipt sees the change.
"""

# ruff: noqa: E501  (column/value tables read better one record per line)
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from include.simulator.values import (
    COUNTRIES,
    MESSAGE_BODIES,
    SENDER_IDS,
    Rng,
    fmt_ts,
    fmt_ts_millis_z,
    money,
)

Record = dict[str, str]


@dataclass(slots=True)
class Ctx:
    account: str
    style: str
    rid: str  # record `id`
    nid: str  # natural id (message_id / call_id / request_id)
    direction: str
    as_of: float
    primary: str


def _number(r: Rng, c: tuple) -> str:  # type: ignore[type-arg]
    return c[2] + str(1 + r.below(9)) + r.digits(c[3] - 1)


def _final_delay(r: Rng) -> float:
    """Seconds until the final status: mostly seconds, some minutes/hours, rarely up to 72 h."""
    u = r.unit()
    if u < 0.85:
        return 1 + r.unit() * 19
    if u < 0.95:
        return 20 + r.unit() * 1780
    if u < 0.99:
        return 1800 + r.unit() * 84600
    return 86400 + r.unit() * 172000


_SMS_FINAL = (("delivered", "0", "Delivered"),) * 17 + (
    ("expired", "5", "Expired"),
    ("failed", "6", "Absent Subscriber"),
    ("rejected", "4", "Call Barred"),
    ("unknown", "99", "Unknown"),
)


def sms(r: Rng, ev: float, x: Ctx) -> Record:
    c = r.pick(COUNTRIES)
    net, net_name = r.pick(c[4])
    body = r.pick(MESSAGE_BODIES)
    ts = x.style
    if x.direction == "inbound":
        return {
            "account_id": x.account, "message_id": x.nid, "direction": "inbound", "from": _number(r, c),
            "to": "1201555" + r.digits(4), "message_body": body, "network": net, "network_name": net_name,
            "country": c[0], "country_name": c[1], "date_received": fmt_ts(ev, ts), "currency": "EUR",
            "total_price": "0", "id": x.rid, "tier_volume": "",
        }  # fmt: skip
    parts = 1 + (r.below(10) == 0)
    price = c[5] * parts
    delay = _final_delay(r)
    status, code, desc = r.pick(_SMS_FINAL)
    final = x.as_of >= ev + delay
    if not final:
        status, code, desc = "accepted", "0", ""
    total = price if final and status != "rejected" else (price if not final else 0.0)
    return {
        "account_id": x.account, "message_id": x.nid, "account_ref": r.pick(("", "customer1234", "cust-77")),
        "client_ref": r.pick(("", "my-ref", f"order-{r.digits(6)}")), "direction": "outbound",
        "from": r.pick(SENDER_IDS), "to": _number(r, c), "forced_from": "", "changed_from": "",
        "concatenated": "TRUE" if parts > 1 else "FALSE", "message_body": body, "network": net,
        "network_name": net_name, "country": c[0], "country_name": c[1], "date_received": fmt_ts(ev, ts),
        "date_finalized": fmt_ts(ev + delay, ts) if final else "",
        "latency": str(int(delay * 1000)) if final else "", "status": status, "error_code": code,
        "error_code_description": desc, "currency": "EUR", "total_price": money(total), "id": x.rid,
        "dcs": "8" if body and not body.isascii() else "0", "validity_period": "259200000",
        "ip_address": f"203.0.113.{1 + r.below(250)}", "udh": "050003CC0201" if parts > 1 else "",
        "workflow_id": "", "tier_volume": r.pick(("", "1-10000", "10001-100000")),
    }  # fmt: skip


_PROVIDERS = ("whatsapp", "whatsapp", "sms", "viber_service_msg", "messenger", "rcs", "mms")
_MSG_FINAL = ("delivered", "delivered", "read", "read", "read", "rejected", "undeliverable")


def messages(r: Rng, ev: float, x: Ctx) -> Record:
    c = r.pick(COUNTRIES)
    net, net_name = r.pick(c[4])
    provider = r.pick(_PROVIDERS)
    body = r.pick(MESSAGE_BODIES)
    ts = x.style
    if provider in ("whatsapp", "messenger", "viber_service_msg"):
        net, net_name = "", ""
    if x.direction == "inbound":
        return {
            "account_id": x.account, "message_id": x.rid, "direction": "inbound", "from": _number(r, c),
            "to": "447700900" + r.digits(3), "message_body": body, "provider": provider, "network": net,
            "network_name": net_name, "date_received": fmt_ts(ev, ts), "currency": "EUR", "total_price": "0",
            "tier_volume": "", "id": x.rid,
        }  # fmt: skip
    est = 0.0072 if provider == "whatsapp" else c[5]
    delay = _final_delay(r)
    status = r.pick(_MSG_FINAL)
    final = x.as_of >= ev + delay
    repriced = r.below(10) == 0
    if final:
        total = 0.0 if status in ("rejected", "undeliverable") else (est * 1.1 if repriced else est)
        code = "1300" if status == "rejected" else ("1320" if status == "undeliverable" else "")
    else:
        status, total, code = "submitted", est, ""
    session = provider == "whatsapp"
    return {
        "account_id": x.account, "message_id": x.rid, "client_ref": r.pick(("", "campaign-7", "ticket-42")),
        "direction": "outbound", "from": "447700900" + r.digits(3), "to": _number(r, c), "message_body": body,
        "country": c[0], "country_name": c[1], "provider": provider, "network": net, "network_name": net_name,
        "session_type": r.pick(("service", "marketing", "utility")) if session else "",
        "session_id": r.hex(32) if session else "", "date_received": fmt_ts(ev, ts),
        "date_finalized": fmt_ts(ev + delay, ts) if final else "",
        "latency": str(int(delay * 1000)) if final else "", "status": status, "error_code": code,
        "currency": "EUR", "estimated_price": money(est, 5), "total_price": money(total, 5), "id": x.rid,
    }  # fmt: skip


def _call(r: Rng, ev: float, x: Ctx) -> tuple[tuple, str, str, str, str, int, float]:  # type: ignore[type-arg]
    c = r.pick(COUNTRIES)
    net, net_name = r.pick(c[4])
    mine = "1201555" + r.digits(4)
    other = _number(r, c)
    frm, to = (mine, other) if x.direction == "outbound" else (other, mine)
    duration = 1 + int(r.unit() ** 2 * 1800)
    return c, net, net_name, frm, to, duration, c[6]


def voice_call(r: Rng, ev: float, x: Ctx) -> Record:
    c, net, net_name, frm, to, dur, rate = _call(r, ev, x)
    ts = x.style
    return {
        "account_id": x.account, "call_id": x.nid, "direction": x.direction, "from": frm, "to": to,
        "forced_from": "", "network": net, "network_name": net_name, "country": c[0], "country_name": c[1],
        "date_start": fmt_ts(ev, ts), "date_end": fmt_ts(ev + dur, ts), "duration": str(dur),
        "status": "ANSWERED", "status_code": "200", "status_description": "Completed", "currency": "EUR",
        "price": money(rate), "total_price": money(rate * ((dur + 59) // 60)), "tier_volume": "0-60",
        "id": x.rid,
    }  # fmt: skip


_FAILED = (("480", "Temporarily Unavailable"), ("486", "Busy Here"), ("487", "Request Terminated"),
           ("404", "Not Found"))  # fmt: skip


def voice_failed(r: Rng, ev: float, x: Ctx) -> Record:
    c, net, net_name, frm, to, _dur, _rate = _call(r, ev, x)
    code, desc = r.pick(_FAILED)
    ts = x.style
    return {
        "account_id": x.account, "id": x.rid, "call_id": x.nid, "country": c[0], "country_name": c[1],
        "date_start": fmt_ts(ev, ts), "date_end": fmt_ts(ev + r.below(30), ts), "direction": x.direction,
        "from": frm, "to": to, "network": net, "network_name": net_name, "status": "FAILED",
        "status_code": code, "status_description": desc,
    }  # fmt: skip


def voice_tts(r: Rng, ev: float, x: Ctx) -> Record:
    c = r.pick(COUNTRIES)
    length = 20 + r.below(400)
    dur = max(1, length // 15)
    tier = r.pick(("standard", "standard", "premium"))
    price = 0.0 if tier == "standard" else 0.0016 * ((length + 99) // 100)
    ts = x.style
    return {
        "account_id": x.account, "id": x.rid, "creation_date": fmt_ts(ev, ts), "start_time": fmt_ts(ev + 1, ts),
        "end_time": fmt_ts(ev + 1 + dur, ts), "duration": str(dur), "from": "1201555" + r.digits(4),
        "to": _number(r, c), "language": r.pick(("en-GB", "en-US", "de-DE", "es-ES", "ja-JP")),
        "length": str(length), "size": str(length * 640), "premium": "TRUE" if tier == "premium" else "FALSE",
        "tts_type": tier, "style": str(r.below(3)), "status": "completed", "trace_id": r.hex(32),
        "currency": "EUR", "price": money(0.0016 if tier != "standard" else 0.0), "total_price": money(price),
    }  # fmt: skip


def in_app_voice(r: Rng, ev: float, x: Ctx) -> Record:
    dur = 1 + r.below(900)
    ts = x.style
    return {
        "account_id": x.account, "request_id": r.uuid(), "application_id": r.uuid(),
        "conversation_id": "CON-" + r.uuid(), "user_id": "USR-" + r.uuid(), "leg_id": r.uuid(),
        "client_ref": r.pick(("", "app-client-1")), "date_start": fmt_ts(ev, ts),
        "date_end": fmt_ts(ev + dur, ts), "duration": str(dur), "status": r.pick(("200", "200", "completed")),
        "currency": "EUR", "price": money(0.0039), "total_price": money(0.0039 * ((dur + 59) // 60)),
        "id": x.rid,
    }  # fmt: skip


def websocket_call(r: Rng, ev: float, x: Ctx) -> Record:
    dur = 1 + r.below(1200)
    ts = x.style
    return {
        "account_id": x.account, "call_id": x.nid, "date_start": fmt_ts(ev, ts),
        "date_end": fmt_ts(ev + dur, ts), "duration": str(dur), "status": r.pick(("200", "200", "200", "500")),
        "currency": "EUR", "price": money(0.0036), "total_price": money(0.0036 * ((dur + 59) // 60)),
        "id": x.rid,
    }  # fmt: skip


def asr(r: Rng, ev: float, x: Ctx) -> Record:
    _c, _net, _nn, frm, to, dur, _rate = _call(r, ev, x)
    ok = r.below(20) != 0
    ts = x.style
    d = min(dur, 60)
    return {
        "account_id": x.account, "call_id": x.nid, "direction": x.direction, "from": frm, "to": to,
        "call_date_start": fmt_ts(ev - r.below(60), ts), "date_start": fmt_ts(ev, ts),
        "date_end": fmt_ts(ev + d, ts), "duration": str(d), "status": "ok" if ok else "error",
        "status_description": "" if ok else "No speech detected", "currency": "EUR", "price": money(0.0200),
        "total_price": money(0.02 * ((d + 59) // 60)), "asr_type": r.pick(("standard", "premier")),
        "id": x.rid,
    }  # fmt: skip


def amd(r: Rng, ev: float, x: Ctx) -> Record:
    ts = x.style
    mode = r.pick(("default", "detect", "detect_beep"))
    return {
        "account_id": x.account, "id": x.rid, "call_id": x.nid, "start_time": fmt_ts(ev, ts),
        "end_time": fmt_ts(ev + 2 + r.below(8), ts), "amd_detection_result": r.pick(("human", "machine")),
        "amd_beep_detection_result": "true" if mode == "detect_beep" and r.below(2) else "false",
        "amd_result_sent": "true", "amd_user_defined_mode": mode,
        "amd_user_defined_behavior": r.pick(("hangup", "continue")),
        "amd_user_defined_beep_timeout": str(30 + r.below(91)), "currency": "EUR", "total_price": money(0.001),
    }  # fmt: skip


_VERIFY_FINAL = ("SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "FAILED", "EXPIRED", "CANCELLED")


def verify_api(r: Rng, ev: float, x: Ctx) -> Record:
    c = r.pick(COUNTRIES)
    net, net_name = r.pick(c[4])
    delay = min(_final_delay(r), 3600.0)
    status = r.pick(_VERIFY_FINAL)
    final = x.as_of >= ev + delay
    sms_n = 1 + (r.below(4) == 0)
    tts_n = r.below(5) == 0
    ts = x.style
    if not final:
        status, sms_n, tts_n = "IN PROGRESS", 1, False
    price = 0.05 if final and status == "SUCCESS" else 0.0
    last = ev + delay if final else ev
    return {
        "account_id": x.account, "request_id": x.nid, "from": "VERIFY", "to": _number(r, c),
        "locale": r.pick(("en-gb", "en-us", "de-de", "es-es")), "number_type": r.pick(("MOBILE", "LANDLINE")),
        "network": net, "network_name": net_name, "country": c[0], "country_name": c[1],
        "date_received": fmt_ts(ev, ts), "date_finalized": fmt_ts(ev + delay, ts) if final else "",
        "first_event_date": fmt_ts(ev, ts), "last_event_date": fmt_ts(last, ts), "verify_status": status,
        "sms_event_count": str(sms_n), "tts_event_count": str(int(tts_n)), "currency": "EUR",
        "pricing_model": r.pick(("0", "1")), "price": money(price), "estimated_price": money(0.05),
        "sms_price": money(c[5] * sms_n), "tts_price": money(c[6] if tts_n else 0.0), "id": x.rid,
    }  # fmt: skip


def verify_v2(r: Rng, ev: float, x: Ctx) -> Record:
    c = r.pick(COUNTRIES)
    net, net_name = r.pick(c[4])
    channel = r.pick(("sms", "sms", "whatsapp", "email", "silent_auth", "voice"))
    delay = min(_final_delay(r), 3600.0)
    status = r.pick(("completed", "completed", "completed", "failed", "expired", "user_rejected"))
    final = x.as_of >= ev + delay
    if not final:
        status = "in_progress"
    counts = {k: "0" for k in ("sms", "tts", "email", "whatsapp", "rcs", "silentauth")}
    key = {
        "sms": "sms",
        "whatsapp": "whatsapp",
        "email": "email",
        "silent_auth": "silentauth",
        "voice": "tts",
    }
    counts[key[channel]] = "1"
    ts = x.style
    return {
        "account_id": x.account, "id": x.rid, "request_id": x.nid,
        "parent_request_id": r.uuid() if channel == "silent_auth" else "", "channel": channel,
        "client_ref": r.pick(("", "login-2fa")),
        "to": f"user{r.digits(4)}@example.com" if channel == "email" else _number(r, c), "country": c[0],
        "network": net, "network_name": net_name, "locale": r.pick(("en-gb", "fr-fr", "pt-br")),
        "pin_length": str(r.pick((4, 6, 6, 8))), "status": status, "date_received": fmt_ts(ev, ts),
        "date_finalized": fmt_ts(ev + delay, ts) if final else "",
        "sms_event_count": counts["sms"], "tts_event_count": counts["tts"], "email_event_count": counts["email"],
        "whatsapp_event_count": counts["whatsapp"], "rcs_event_count": counts["rcs"],
        "silentauth_event_count": counts["silentauth"], "if_fraud_check": r.pick(("TRUE", "FALSE")),
        "currency": "EUR", "total_price": money(0.058 if final and status == "completed" else 0.0),
    }  # fmt: skip


def number_insight(r: Rng, ev: float, x: Ctx) -> Record:
    c = r.pick(COUNTRIES)
    net, net_name = r.pick(c[4])
    ptype = r.pick(("basic", "standard", "advanced", "HLR-LOOKUP"))
    return {
        "account_id": x.account, "request_id": x.nid, "product_type": ptype, "number": _number(r, c),
        "date_received": fmt_ts(ev, x.style), "status": "Success", "response_code": "0", "network": net,
        "network_name": net_name, "network_type": "mobile", "country": c[0], "country_name": c[1],
        "valid": "valid" if ptype == "advanced" else "", "ported": r.pick(("not_ported", "ported", "unknown")),
        "reachable": r.pick(("reachable", "unknown", "absent")) if ptype == "advanced" else "",
        "first_name": "", "last_name": "", "currency": "",
        "total_price": money({"basic": 0.0, "standard": 0.005, "advanced": 0.03, "HLR-LOOKUP": 0.02}[ptype]),
        "id": x.rid,
    }  # fmt: skip


def number_insight_v2(r: Rng, ev: float, x: Ctx) -> Record:
    c = r.pick(COUNTRIES)
    net, net_name = r.pick(c[4])
    rtype = r.pick(("fraud-score", "sim-swap"))
    score = r.below(101)
    return {
        "account_id": x.account, "id": x.rid, "request_id": x.nid, "request_type": rtype,
        "number": _number(r, c), "date_received": fmt_ts(ev, x.style), "status": r.pick(("completed",) * 9 + ("failed",)),
        "risk": ("low" if score < 40 else "medium" if score < 75 else "high") if rtype == "fraud-score" else "",
        "risk_score": str(score) if rtype == "fraud-score" else "",
        "swapped": r.pick(("TRUE", "FALSE", "FALSE")) if rtype == "sim-swap" else "", "network": net,
        "network_name": net_name, "country": c[0], "country_name": c[1], "currency": "EUR",
        "total_price": money(0.04 if rtype == "fraud-score" else 0.03),
    }  # fmt: skip


def conversation_event(r: Rng, ev: float, x: Ctx) -> Record:
    return {
        "account_id": x.account, "request_id": r.uuid(), "application_id": r.uuid(),
        "conversation_id": "CON-" + r.uuid(), "user_id": "USR-" + r.uuid(), "client_ref": r.pick(("", "web-1")),
        "creation_date": fmt_ts(ev, x.style), "currency": "EUR", "price": money(0.0),
        "total_price": money(0.0), "id": x.rid,
    }  # fmt: skip


def conversation_message(r: Rng, ev: float, x: Ctx) -> Record:
    return {
        "account_id": x.account, "id": x.rid, "application_id": r.uuid(), "client_ref": r.pick(("", "chat-9")),
        "conversation_id": "CON-" + r.uuid(), "creation_date": fmt_ts(ev, x.style),
        "from_channel": r.pick(("app", "sms", "whatsapp")), "from_member_id": "MEM-" + r.uuid(),
        "from_message_id": str(1 + r.below(500)), "from_user_id": "USR-" + r.uuid(),
        "other_ids": json.dumps({"external_id": r.hex(12)}), "trace_id": r.hex(32), "currency": "EUR",
        "price": money(0.0005), "total_price": money(0.0005),
    }  # fmt: skip


_VIDEO = ("Video Session", "Subscriber minutes", "Subscriber minutes", "Archiving", "Broadcasting", "HLS",
          "Experience composer", "SIP_Interconnect", "Audio_Connector", "Live_Captions")  # fmt: skip


def video_api(r: Rng, ev: float, x: Ctx) -> Record:
    feat = r.pick(_VIDEO)
    timed = feat != "Video Session"
    dur = 1 + r.below(3600) if timed else 0
    bid = r.uuid() if feat in ("Broadcasting", "HLS") else ""
    ts = x.style
    return {
        "account_id": x.account, "feature_name": feat, "session_id": "2_MX4" + r.hex(40),
        "meeting_id": r.uuid() if feat == "Video Session" else "",
        "subscriber_id": r.uuid() if feat in ("Subscriber minutes", "SIP_Interconnect", "Audio_Connector",
                                              "Live_Captions") else "",
        "archive_id": r.uuid() if feat == "Archiving" else "", "broadcast_id": bid if feat == "Broadcasting" else "",
        "hls_id": bid if feat == "HLS" else "", "composer_id": r.uuid() if feat == "Experience composer" else "",
        "application_id": r.uuid(), "duration": str(dur) if timed else "", "date_start": fmt_ts(ev, ts),
        "date_end": fmt_ts(ev + dur, ts), "total_price": "0" if not timed else money(0.00395 * dur / 60, 5),
        "currency": "USD", "tier_volume": r.pick(("", "0-10000", "10001-100000")), "id": x.rid,
    }  # fmt: skip


def network_api_event(r: Rng, ev: float, x: Ctx) -> Record:
    c = r.pick(COUNTRIES)
    net, _nn = r.pick(c[4])
    name = r.pick(("camara-sim-swap", "camara-device-status", "camara-number-verification"))
    rtype = r.pick(("check", "retrieve-date"))
    ok = r.below(15) != 0
    return {
        "account_id": x.account, "id": x.rid, "application_id": r.uuid(), "correlation_id": r.uuid(),
        "country_code": c[0], "msisdn": _number(r, c), "network": net, "product_name": name,
        "product_path": f"/camara/{name.removeprefix('camara-')}/v040/{rtype}", "request_type": rtype,
        "request_session_id": r.uuid(), "response_result": r.pick(("true", "false")) if ok else "",
        "status": "SUCCESS" if ok else "FAILED", "event_time": fmt_ts(ev, x.style),
        "record_creation_time": fmt_ts_millis_z(ev + 2 + r.unit()), "currency": "EUR",
        "total_price": money(0.04 if ok else 0.0),
    }  # fmt: skip


def reports_usage(r: Rng, ev: float, x: Ctx) -> Record:
    job = r.pick(("SYNC_JOB_FROM_DATES", "SYNC_JOB_FROM_DATES", "SYNC_JOB_FROM_ID", "ASYNC_JOB"))
    prod = r.pick(("SMS", "VOICE-CALL", "MESSAGES"))
    items = 1 + r.below(1000) if job != "ASYNC_JOB" else 1 + r.below(200000)
    ts = x.style
    params = {"product": prod, "account_id": x.account}
    return {
        "account_id": x.account, "id": x.rid, "acc": x.primary, "master_account_id": x.primary,
        "product_type": "reports", "request_product": prod, "request_params": json.dumps(params),
        "job_type": job, "date_received": fmt_ts(ev, ts), "date_started": fmt_ts(ev, ts),
        "date_finished": fmt_ts(ev + 1 + items // 2000, ts), "items_written": str(items),
        "is_charged": "TRUE", "status": "SUCCESS", "price": money(0.0004), "total_price": money(0.0004 * items),
        "currency": "EUR", "tier_volume": "",
    }  # fmt: skip


def sms_traffic_control(r: Rng, ev: float, x: Ctx) -> Record:
    return {
        "account_id": x.account, "id": x.rid, "message_id": r.hex(16).upper(), "queued_time": fmt_ts(ev, x.style),
        "queue_duration": str(r.below(5000)), "status": r.pick(("queued", "dequeued", "dequeued")),
    }  # fmt: skip


def meetings(r: Rng, ev: float, x: Ctx) -> Record:
    dur = 60 + r.below(5400)
    ts = x.style
    return {
        "account_id": x.account, "id": x.rid, "room_id": r.uuid(), "meeting_id": r.uuid(),
        "date_start": fmt_ts(ev, ts), "date_end": fmt_ts(ev + dur, ts), "duration": str(dur),
        "participants": str(2 + r.below(20)), "currency": "EUR", "total_price": money(0.00395 * dur / 60),
    }  # fmt: skip


BUILDERS: dict[str, Callable[[Rng, float, Ctx], Record]] = {
    "SMS": sms, "SMS-TRAFFIC-CONTROL": sms_traffic_control, "MESSAGES": messages, "VOICE-CALL": voice_call,
    "VOICE-FAILED": voice_failed, "VOICE-TTS": voice_tts, "IN-APP-VOICE": in_app_voice,
    "WEBSOCKET-CALL": websocket_call, "ASR": asr, "AMD": amd, "VERIFY-API": verify_api, "VERIFY-V2": verify_v2,
    "NUMBER-INSIGHT": number_insight, "NUMBER-INSIGHT-V2": number_insight_v2,
    "CONVERSATION-EVENT": conversation_event, "CONVERSATION-MESSAGE": conversation_message,
    "VIDEO-API": video_api, "NETWORK-API-EVENT": network_api_event, "REPORTS-USAGE": reports_usage,
    "CONVERSATIONS": conversation_event, "MEETINGS": meetings,
}  # fmt: skip

"""aiohttp application: routes, Basic auth, account authorisation, rate limits, faults, request log.

Why: one place that maps HTTP to the pure parts (validation, sync pages, report manager) and applies the
cross-cutting behaviour every endpoint shares. Credentials are compared in constant time and never
logged; the log line carries method, path, status, account and duration only.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import email.utils
import hmac
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import ClientSession, ClientTimeout, hdrs, web

from include.simulator.config import Account
from include.simulator.file_faults import plan_download, write_faulty_copy
from include.simulator.problems import (
    PROBLEM_JSON,
    Problem,
    bad_list_params,
    file_not_found,
    forbidden,
    malformed_json,
    optional_part_missing,
    rate_limited,
    server_error,
    unauthorized,
)  # fmt: skip
from include.simulator.reports import TERMINAL, Report
from include.simulator.sync import CURSOR_EXPIRED, expired_cursor, records_page
from include.simulator.validation import parse_ts, validate

if TYPE_CHECKING:
    from include.simulator.server import Simulator

log = logging.getLogger("include.simulator")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SIM: web.AppKey[Simulator] = web.AppKey("simulator")
TICKER: web.AppKey[asyncio.Task[None]] = web.AppKey("ticker")
CALLER: web.RequestKey[Account] = web.RequestKey("caller")


def problem_response(p: Problem) -> web.Response:
    return web.Response(
        status=p.status, text=json.dumps(p.body), content_type=PROBLEM_JSON, headers=p.headers
    )


def json_response(body: dict[str, Any]) -> web.Response:
    return web.json_response(body)


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _caller(request: web.Request, accounts: list[Account]) -> Account:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        raise unauthorized()
    try:
        key, _, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise unauthorized() from exc
    for a in accounts:
        if hmac.compare_digest(a.api_key, key) and hmac.compare_digest(a.api_secret, secret):
            return a
    raise unauthorized()


def _abort(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()


@web.middleware
async def core_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    sim: Simulator = request.app[SIM]
    t0 = time.monotonic()
    status = 0
    account = "-"
    try:
        faults = sim.faults
        cfg = faults.config
        if faults.applies_to(request.path):
            if faults.roll(cfg.reset_rate):
                faults.count("connection_reset")
                status = -1
                _abort(request)
                return web.Response(status=500)
            if faults.roll(cfg.timeout_rate):
                faults.count("timeout")
                await asyncio.sleep(cfg.timeout_seconds)
                status = -2
                _abort(request)
                return web.Response(status=504)
            if faults.roll(cfg.slow_rate):
                faults.count("slow")
                await asyncio.sleep(cfg.slow_seconds)
            if faults.roll(cfg.error_rate):
                faults.count(f"server_error_{cfg.error_status}")
                raise server_error(cfg.error_status)
        caller = _caller(request, sim.config.accounts)
        account = caller.api_key
        request[CALLER] = caller
        kind = "sync" if request.path == "/v2/reports/records" else "async"
        limit = faults.rate_limited(caller.api_key, kind)
        if limit is None and faults.burst_429(caller.api_key):
            limit = cfg.rate_limit_sync_rps if kind == "sync" else cfg.rate_limit_async_rps
        if limit is not None:
            raise rate_limited(cfg.rate_limit_status, cfg.retry_after_seconds, limit)
        resp = await handler(request)
        status = resp.status
        return resp
    except Problem as p:
        status = p.status
        return problem_response(p)
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        sim.request_log.append((request.method, request.path, status))
        if sim.config.log_requests:
            log.info("%s %s -> %s account=%s %.1fms", request.method, request.path_qs if status != 401 else
                     request.path, status, account, (time.monotonic() - t0) * 1000)  # fmt: skip


def _authorize(request: web.Request, account_id: str) -> Account:
    caller: Account = request[CALLER]
    if not caller.owns(account_id):
        raise forbidden()
    return caller


async def get_records(request: web.Request) -> web.Response:
    sim: Simulator = request.app[SIM]
    params = dict(request.query)
    cursor, iv = params.pop("cursor", None), params.pop("iv", None)
    now = sim.clock.now()
    q = validate(params, mode="sync", cfg=sim.config, now=now)
    _authorize(request, q.account_id)
    faults = sim.faults
    if q.ids is not None and faults.config.id_lookup_status is not None:
        raise optional_part_missing(faults.config.id_lookup_status, "id")
    if cursor is not None and faults.roll(faults.config.expired_cursor_rate):
        faults.count("expired_cursor")
        raise expired_cursor()
    try:
        body = await asyncio.get_running_loop().run_in_executor(
            None,
            lambda: records_page(sim.model, sim.codec, q, cursor=cursor, iv=iv, base_url=base_url(request),
                                 self_query=list(request.query.items()), now=now,
                                 cursor_ttl=faults.config.cursor_ttl_seconds),
        )  # fmt: skip
    except Problem as p:
        if p.body.get("detail") == CURSOR_EXPIRED:
            faults.count("expired_cursor")
        raise
    return json_response(body)


async def create_report(request: web.Request) -> web.Response:
    sim: Simulator = request.app[SIM]
    try:
        params = json.loads(await request.text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise malformed_json() from exc
    if not isinstance(params, dict):
        raise malformed_json()
    q = validate(params, mode="async", cfg=sim.config, now=sim.clock.now())
    caller = _authorize(request, q.account_id)
    fail = sim.faults.roll(sim.faults.config.failed_report_rate)
    if fail:
        sim.faults.count("failed_report")
    r = sim.reports.create(q, caller.api_key, base_url(request), fail)
    if sim.faults.drop_create_answer():
        _abort(request)  # the report exists and is billed; the client never hears of it
        return web.Response(status=500)
    return json_response(r.to_json())


async def list_reports(request: web.Request) -> web.Response:
    sim: Simulator = request.app[SIM]
    if sim.faults.config.list_reports_status is not None:
        raise optional_part_missing(sim.faults.config.list_reports_status, "list")
    qp = request.query
    account_id = qp.get("account_id")
    if not account_id:
        raise bad_list_params("Missing required parameter account_id.")
    status_text = qp.get("status")
    if status_text is None and sim.config.list_status_required:
        raise bad_list_params("Missing required parameter status.")
    statuses = {
        s.strip().upper() for s in (status_text or ",".join((*TERMINAL, "PENDING", "PROCESSING"))).split(",")
    }
    if not statuses <= set(TERMINAL) | {"PENDING", "PROCESSING"}:
        raise bad_list_params(f"Invalid status value: {status_text}.")
    now = sim.clock.now()
    since, until = now - timedelta(days=7), now + timedelta(seconds=1)
    for name in ("date_from", "date_to"):
        if name in qp:
            dt = parse_ts(qp[name])
            if dt is None:
                raise bad_list_params(f"Invalid value for {name}.")
            since, until = (dt, until) if name == "date_from" else (since, dt)
    caller = _authorize(request, account_id)
    reports = sim.reports.list(caller.api_key, account_id, statuses, since, until)
    body = {
        "self_link": f"{base_url(request)}{request.path_qs}",
        "items_count": len(reports),
        "reports": [r.to_json() for r in reports],
    }
    return json_response(body)


async def get_report(request: web.Request) -> web.Response:
    sim: Simulator = request.app[SIM]
    r = sim.reports.get(request.match_info["report_id"], request[CALLER].api_key)
    return json_response(r.to_json())


async def cancel_report(request: web.Request) -> web.Response:
    sim: Simulator = request.app[SIM]
    r = sim.reports.cancel(request.match_info["report_id"], request[CALLER].api_key)
    return json_response(r.to_json())


_HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


def _faulty_copy(sim: Simulator, r: Report) -> Path | None:
    """Roll this download's file faults; when any hits, write the faulty copy and return its path."""
    cfg = sim.faults.config
    q = r.query
    report_key = f"{q.product}|{q.account_id}|{q.direction or ''}|{q.start.isoformat()}|{q.end.isoformat()}"
    plan = plan_download(
        seed=cfg.seed,
        report_key=report_key,
        attempt=sim.faults.next_download(report_key),
        items=r.items_count or 0,
        short_rate=cfg.short_file_rate,
        short_kinds=cfg.short_file_kinds,
        missing_rate=cfg.missing_column_rate,
        renamed_rate=cfg.renamed_column_rate,
        undecodable_rate=cfg.undecodable_row_rate,
        malformed_rate=cfg.malformed_row_rate,
        columns=cfg.column_fault_columns,
    )
    if not plan.any or r.file_path is None:
        return None
    dest = sim.data_dir / f".served-{uuid.uuid4().hex}.zip"
    for kind in write_faulty_copy(r.file_path, dest, plan, r.items_count or 0):
        sim.faults.count(kind)
    return dest


async def download(request: web.Request) -> web.StreamResponse:
    sim: Simulator = request.app[SIM]
    file_id = request.match_info["file_id"]
    r = sim.reports.media(file_id, request[CALLER].api_key)
    if r is None or r.file_path is None:
        raise file_not_found(file_id)
    name = f"{r.query.product}_{r.request_id}.zip"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Type": "application/octet-stream",
    }
    faults = sim.faults
    cfg = faults.config
    if faults.roll(cfg.html_download_rate):
        faults.count("html_download")
        return web.Response(body=_HTML, content_type="text/html")
    copy = await asyncio.get_running_loop().run_in_executor(None, _faulty_copy, sim, r)
    truncate, corrupt = faults.roll(cfg.truncated_download_rate), faults.roll(cfg.corrupt_download_rate)
    if truncate:
        faults.count("truncated_download")
    if corrupt:
        faults.count("corrupt_download")
    if not (truncate or corrupt or copy):
        return web.FileResponse(r.file_path, headers=headers)
    path = copy or r.file_path
    try:
        return await _stream(request, path, headers, truncate=truncate, corrupt=corrupt)
    finally:
        if copy is not None:
            copy.unlink(missing_ok=True)


async def _stream(
    request: web.Request, path: Path, headers: dict[str, str], *, truncate: bool, corrupt: bool
) -> web.StreamResponse:
    """Send `path` with its true Content-Length; flip 64 bytes in the middle and/or cut the body there."""
    size = path.stat().st_size
    resp = web.StreamResponse(headers=headers)
    resp.content_length = size
    await resp.prepare(request)
    sent = 0
    with path.open("rb") as fh:
        while chunk := fh.read(256 * 1024):
            if corrupt and sent <= size // 2 < sent + len(chunk):
                pos = size // 2 - sent
                chunk = chunk[:pos] + bytes(b ^ 0xFF for b in chunk[pos : pos + 64]) + chunk[pos + 64 :]
            if truncate and sent + len(chunk) > size // 2:
                await resp.write(chunk[: size // 2 - sent])
                await asyncio.sleep(0.05)  # let the partial body reach the client before the reset
                _abort(request)
                return resp
            await resp.write(chunk)
            sent += len(chunk)
    await resp.write_eof()
    return resp


async def _ticker(app: web.Application) -> None:
    sim: Simulator = app[SIM]
    async with ClientSession(timeout=ClientTimeout(total=10)) as session:
        while True:
            for url, body in sim.reports.tick():
                try:
                    async with session.post(url, json=body) as resp:
                        sim.callbacks_sent.append((url, resp.status))
                except Exception as exc:
                    sim.callbacks_sent.append((url, 0))
                    log.warning("callback to %s failed: %s", url, type(exc).__name__)
            await asyncio.sleep(0.05)


async def _start_ticker(app: web.Application) -> None:
    app[TICKER] = asyncio.create_task(_ticker(app))


async def _stop_ticker(app: web.Application) -> None:
    task = app[TICKER]
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _simulated_date_header(request: web.Request, response: web.StreamResponse) -> None:
    """Vonage's clock is the simulated clock: clients that ask the server for "now" must get it."""
    now = request.app[SIM].clock.now()
    response.headers[hdrs.DATE] = email.utils.format_datetime(now.astimezone(UTC), usegmt=True)


def make_app(sim: Simulator) -> web.Application:
    app = web.Application(middlewares=[core_middleware])
    app[SIM] = sim
    app.on_response_prepare.append(_simulated_date_header)
    app.router.add_get("/v2/reports/records", get_records)
    app.router.add_post("/v2/reports", create_report)
    app.router.add_get("/v2/reports", list_reports)
    app.router.add_get("/v2/reports/{report_id}", get_report)
    app.router.add_delete("/v2/reports/{report_id}", cancel_report)
    app.router.add_get("/v3/media/{file_id}", download)
    app.on_startup.append(_start_ticker)
    app.on_cleanup.append(_stop_ticker)
    return app

"""Async reports: lifecycle PENDING -> PROCESSING -> SUCCESS/TRUNCATED/FAILED (or ABORTED), files, expiry.

Why: the daily DAG creates reports, polls, downloads and must cope with every terminal state and with expiry
(metadata 4 days, files 72 hours; docs/vonage-reports-api.md, Retention and Report lifecycle). Status is a
pure function of the simulated clock plus "has the file been written": the ZIP is built at once in a worker
thread (rows streamed through zipfile, memory bounded), while PENDING/PROCESSING last as long as the
configured pace says (fast: seconds; vonage: 5-10 simulated minutes per million records). A report's records
are the records visible at its `receive_time`, so `ground_truth(..., as_of=receive_time)` matches the file.
"""

from __future__ import annotations

import csv
import heapq
import io
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from include.simulator.config import SimulatorConfig
from include.simulator.generate import DataModel, project
from include.simulator.problems import invalid_abort, not_found
from include.simulator.validation import Query
from include.simulator.values import key64

TERMINAL = ("SUCCESS", "TRUNCATED", "FAILED", "ABORTED")


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class Report:
    request_id: str
    query: Query
    owner: str  # primary account key that created it
    accounts: list[str]
    receive: datetime
    base_url: str
    pending_s: float
    per_million_s: float
    fail: bool
    state: str = "PENDING"
    start_time: datetime | None = None
    completed_at: datetime | None = None
    items_count: int | None = None
    truncated: bool = False
    file_id: str | None = None
    file_path: Path | None = None
    build: Future[None] | None = None
    built_at: datetime | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    callback_due: bool = False
    file_deleted: bool = False
    file_expired: bool = False  # the file was dropped because its 72 hours passed

    def to_json(self) -> dict[str, Any]:
        q = self.query
        body: dict[str, Any] = {"request_id": self.request_id, "request_status": self.state}
        body.update({"product": q.product, "account_id": q.account_id, "include_subaccounts": False})
        body.update(q.echo)
        body["receive_time"] = _ts(self.receive)
        if self.start_time is not None:
            body["start_time"] = _ts(self.start_time)
        links: dict[str, Any] = {"self": {"href": f"{self.base_url}/v2/reports/{self.request_id}"}}
        if self.state in ("SUCCESS", "TRUNCATED") and self.file_id and not self.file_deleted:
            links["download_report"] = {"href": f"{self.base_url}/v3/media/{self.file_id}"}
        body["_links"] = links
        if self.items_count is not None and self.state in ("SUCCESS", "TRUNCATED"):
            body["items_count"] = self.items_count
        return body


class ReportManager:
    def __init__(
        self,
        cfg: SimulatorConfig,
        model: DataModel,
        data_dir: Path,
        on_fault: Callable[[str], None] | None = None,
    ) -> None:
        self.cfg, self.model, self.data_dir = cfg, model, data_dir
        self.on_fault = on_fault or (lambda kind: None)  # counts expiries met by clients
        self.clock = cfg.clock
        self.reports: dict[str, Report] = {}
        self.files: dict[str, Report] = {}
        self.created: list[dict[str, Any]] = []
        self.lock = threading.RLock()
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sim-report")

    # -- creation ---------------------------------------------------------------------------------------
    def create(self, q: Query, owner: str, base_url: str, fail: bool) -> Report:
        now = self.clock.now()
        accounts = [q.account_id]
        if q.include_subaccounts:
            for a in self.cfg.accounts:
                if a.api_key == q.account_id:
                    accounts += list(a.subaccounts)
        rid = str(uuid.uuid4())
        fast = self.cfg.pace == "fast"
        pending = (
            self.cfg.pending_seconds if self.cfg.pending_seconds is not None else (0.5 if fast else 10.0)
        )
        if self.cfg.seconds_per_million is not None:
            per_million = self.cfg.seconds_per_million
        else:
            per_million = 2.0 if fast else 300.0 + (key64(rid) % 300)
        r = Report(rid, q, owner, accounts, now, base_url, pending, per_million, fail)
        with self.lock:
            self.reports[rid] = r
            self.created.append(r.to_json())
        r.build = self.pool.submit(self._build, r)
        return r

    # -- lifecycle ----------------------------------------------------------------------------------------
    def refresh(self, r: Report) -> None:
        with self.lock:
            if r.state in TERMINAL:
                return
            now = self.clock.now()
            start = r.receive + timedelta(seconds=r.pending_s)
            if now < start:
                return
            r.state, r.start_time = "PROCESSING", start
            if r.build is None or not r.build.done() or r.built_at is None:
                return
            n = r.items_count or 0
            done_at = start + timedelta(
                seconds=(0.5 if self.cfg.pace == "fast" else 20.0) + r.per_million_s * n / 1e6
            )
            if now < done_at:
                return
            r.completed_at = max(done_at, r.built_at)
            failed = r.fail or r.build.exception() is not None
            r.state = "FAILED" if failed else ("TRUNCATED" if r.truncated else "SUCCESS")
            if failed:
                self._drop_file(r)
            elif r.file_path is not None:
                r.file_id = str(uuid.uuid4())
                self.files[r.file_id] = r
            r.callback_due = r.query.callback_url is not None

    def expired(self, r: Report, now: datetime) -> bool:
        return now >= r.receive + timedelta(hours=self.cfg.report_retention_hours)

    def get(self, report_id: str, caller: str) -> Report:
        with self.lock:
            r = self.reports.get(report_id)
            if r is None or r.owner != caller:
                raise not_found(report_id)
            if self.expired(r, self.clock.now()):
                self.on_fault("expired_report")
                raise not_found(report_id)
            self.refresh(r)
            self._expire_file(r)
            if r.file_expired:
                self.on_fault("expired_file")
            return r

    def cancel(self, report_id: str, caller: str) -> Report:
        with self.lock:
            r = self.get(report_id, caller)
            if r.state in TERMINAL:
                raise invalid_abort(r.state)
            r.state = "ABORTED"
            r.completed_at = self.clock.now()
            r.cancel_event.set()
            r.items_count = None
            self._drop_file(r)
            return r

    def list(
        self, caller: str, account_id: str, statuses: set[str], since: datetime, until: datetime
    ) -> list[Report]:
        with self.lock:
            now = self.clock.now()
            out = []
            for r in self.reports.values():
                if r.owner != caller or r.query.account_id != account_id or self.expired(r, now):
                    continue
                self.refresh(r)
                if r.state in statuses and since <= r.receive < until:
                    out.append(r)
            return out

    def media(self, file_id: str, caller: str) -> Report | None:
        with self.lock:
            r = self.files.get(file_id)
            now = self.clock.now()
            if r is None or r.owner != caller or r.completed_at is None:
                return None
            self._expire_file(r)
            if self.expired(r, now) and not r.file_deleted:
                r.file_expired = True
                self._drop_file(r)
            if r.file_expired:
                self.on_fault("expired_file")
            return None if r.file_deleted else r

    def tick(self) -> list[tuple[str, dict[str, Any]]]:
        """Advance every report; return (callback_url, status body) pairs that are now due."""
        due = []
        with self.lock:
            for r in list(self.reports.values()):
                self.refresh(r)
                if r.callback_due:
                    r.callback_due = False
                    due.append((r.query.callback_url or "", r.to_json()))
                self._expire_file(r)
        return due

    def _expire_file(self, r: Report) -> None:
        """Drop the file once its retention has passed (checked on every touch, not only by the ticker)."""
        retention = timedelta(hours=self.cfg.file_retention_hours)
        if r.completed_at and not r.file_deleted and self.clock.now() >= r.completed_at + retention:
            r.file_expired = True
            self._drop_file(r)

    def _drop_file(self, r: Report) -> None:
        if r.file_path is not None and not r.file_deleted:
            r.file_deleted = True
            r.file_path.unlink(missing_ok=True)

    # -- file ---------------------------------------------------------------------------------------------
    def _rows(self, r: Report, account: str) -> Iterator[tuple[float, dict[str, str]]]:
        q = r.query
        for (_, _), rec in self.model.iter_window(account, q.product, q.start.timestamp(), q.end.timestamp(),
                                                  as_of=r.receive, direction=q.direction, filters=q.filters,
                                                  reverse=True):  # fmt: skip
            yield 0.0, rec

    def _build(self, r: Report) -> None:
        """Write `<PRODUCT>_<REPORT_ID>.zip` holding one CSV per account (or one in "single" mode)."""
        q = r.query
        path = self.data_dir / f"{q.product}_{r.request_id}.zip"
        gen_date = self.clock.now().strftime("%Y%m%d")
        limit = self.cfg.async_max_records
        written = 0
        if self.cfg.subaccount_files == "single":
            groups = [(q.account_id, self._merged(r))]
        else:
            groups = [(a, (rec for _, rec in self._rows(r, a))) for a in r.accounts]
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for account, rows in groups:
                name = f"report_{q.product}_{account}_{gen_date}.csv"
                with zf.open(name, "w", force_zip64=True) as raw:
                    text = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=False)
                    w = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
                    cols = q.spec.view_columns(q.direction, q.include_message, q.show_concatenated)
                    w.writerow(cols)
                    for rec in rows:
                        if written >= limit:
                            r.truncated = True
                            break
                        if r.cancel_event.is_set():
                            break
                        row = project(rec, q.spec, q.include_message, q.show_concatenated)
                        w.writerow([row.get(c, "") for c in cols])
                        written += 1
                    text.flush()
                    text.detach()
                if r.truncated or r.cancel_event.is_set():
                    break
        with self.lock:
            r.file_path = path
            r.items_count = written
            r.built_at = self.clock.now()
            if r.cancel_event.is_set():
                self._drop_file(r)

    def _merged(self, r: Report) -> Iterator[dict[str, str]]:
        col = r.query.spec.event_col
        streams = [((rec[col], rec) for _, rec in self._rows(r, a)) for a in r.accounts]
        for _, rec in heapq.merge(*streams, key=lambda t: t[0], reverse=True):
            yield rec

    def shutdown(self) -> None:
        for r in self.reports.values():
            r.cancel_event.set()
        self.pool.shutdown(wait=True, cancel_futures=True)

"""`Simulator` (an in-process server on a free port, in a background thread) and `running_simulator`.

Why: tests and other engineers' code need a real HTTP server on 127.0.0.1 that they can start in one
line, steer (clock, faults) while it runs, and query for ground truth, without sharing an event loop.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from include.simulator.app import make_app
from include.simulator.clock import SimClock
from include.simulator.config import FaultConfig, SimulatorConfig
from include.simulator.faults import FaultState
from include.simulator.generate import DataModel, project
from include.simulator.products import PRODUCTS
from include.simulator.reports import ReportManager
from include.simulator.sync import CursorCodec
from include.simulator.values import key64


class Simulator:
    """One simulator instance. Use `running_simulator(cfg)` or `start()`/`stop()`."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.model = DataModel(self.config)
        self.faults = FaultState(self.config.faults)
        self.codec = CursorCodec(key64("cursor", self.config.seed).to_bytes(8, "big") + b"sim-cursor")
        self._tmp: str | None = None
        if self.config.data_dir:
            data_dir = Path(self.config.data_dir)
            data_dir.mkdir(parents=True, exist_ok=True)
        else:
            self._tmp = tempfile.mkdtemp(prefix="vonage-sim-")
            data_dir = Path(self._tmp)
        self.data_dir = data_dir
        self.reports = ReportManager(self.config, self.model, data_dir, on_fault=self.faults.count)
        self.request_log: list[tuple[str, str, int]] = []
        self.callbacks_sent: list[tuple[str, int]] = []
        self.host = "127.0.0.1"
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # -- public API ----------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_key(self) -> str:
        return self.config.primary.api_key

    @property
    def api_secret(self) -> str:
        return self.config.primary.api_secret

    @property
    def clock(self) -> SimClock:
        return self.config.clock

    @property
    def reports_created(self) -> list[dict[str, Any]]:
        return list(self.reports.created)

    def set_faults(self, faults: FaultConfig) -> None:
        self.faults.set(faults)

    def fault_counts(self) -> dict[str, int]:
        """Faults injected so far by kind (429s, 5xx, resets, short files, expiries met ...), all configs."""
        return self.faults.counts()

    def ground_truth(
        self,
        account_id: str,
        product: str,
        day: date,
        *,
        direction: str | None = None,
        as_of: datetime | None = None,
        include_message: bool = False,
    ) -> list[dict[str, str]]:
        """Records of (account, product, UTC day[, direction]) visible at `as_of` (default now), by time."""
        start = datetime.combine(day, time(0), tzinfo=UTC)
        end = start + timedelta(days=1)
        return self.ground_truth_window(
            account_id, product, start, end, direction=direction, as_of=as_of, include_message=include_message
        )

    def ground_truth_window(
        self,
        account_id: str,
        product: str,
        start: datetime,
        end: datetime,
        *,
        direction: str | None = None,
        as_of: datetime | None = None,
        include_message: bool = False,
    ) -> list[dict[str, str]]:
        """Records with event time in [start, end), visible at `as_of`, as the CSV/JSON carries them."""
        spec = PRODUCTS[product]
        as_of = as_of or self.clock.now()
        return [
            project(rec, spec, include_message, False)
            for _, rec in self.model.iter_window(
                account_id, product, start.timestamp(), end.timestamp(), as_of=as_of, direction=direction
            )
        ]

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> Simulator:
        self.host = host
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._runner = web.AppRunner(make_app(self), access_log=None)
                loop.run_until_complete(self._runner.setup())
                site = web.TCPSite(self._runner, host, port)
                loop.run_until_complete(site.start())
                self.port = self._runner.addresses[0][1]
            except BaseException as exc:
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="vonage-simulator", daemon=True)
        self._thread.start()
        ready.wait(30)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
        self.reports.shutdown()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __repr__(self) -> str:
        return f"Simulator(base_url={self.base_url!r}, api_key={self.api_key!r})"


@contextmanager
def running_simulator(config: SimulatorConfig | None = None) -> Iterator[Simulator]:
    """Start a simulator on 127.0.0.1 on a free port in a background thread; stop it on exit."""
    sim = Simulator(config).start()
    try:
        yield sim
    finally:
        sim.stop()

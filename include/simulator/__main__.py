"""`python -m include.simulator`: run the Reports API simulator in the foreground (`make sandbox`).

Settings come from flags or environment: PORT (8765), VONAGE_API_KEY / VONAGE_API_SECRET (documented
sandbox defaults), SIM_PACE=fast|vonage, SIM_SEED, SIM_RECORDS_PER_DAY, SIM_STRICT_SYNC_WINDOW=1|0,
SIM_HOST (127.0.0.1). One log line per request; the secret is never printed.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

from include.simulator.config import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_SUBACCOUNTS,
    Account,
    SimulatorConfig,
)
from include.simulator.server import Simulator


def main(argv: list[str] | None = None) -> None:
    env = os.environ
    p = argparse.ArgumentParser(prog="python -m include.simulator", description=__doc__)
    p.add_argument("--host", default=env.get("SIM_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(env.get("PORT", "8765")))
    p.add_argument("--pace", choices=["fast", "vonage"], default=env.get("SIM_PACE", "fast"))
    p.add_argument("--seed", type=int, default=int(env.get("SIM_SEED", "42")))
    p.add_argument("--records-per-day", type=int, default=int(env.get("SIM_RECORDS_PER_DAY", "200")))
    lenient = env.get("SIM_STRICT_SYNC_WINDOW", "1").lower() in ("0", "false", "no")
    p.add_argument("--lenient-sync-window", action="store_true", default=lenient)
    args = p.parse_args(argv)
    key = env.get("VONAGE_API_KEY") or DEFAULT_API_KEY
    secret = env.get("VONAGE_API_SECRET") or DEFAULT_API_SECRET
    cfg = SimulatorConfig(
        seed=args.seed,
        accounts=[Account(key, secret, DEFAULT_SUBACCOUNTS)],
        records_per_day=args.records_per_day,
        pace=args.pace,
        strict_sync_window=not args.lenient_sync_window,
        log_requests=True,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    sim = Simulator(cfg).start(args.host, args.port)
    logging.getLogger("include.simulator").info(
        "Reports API simulator on %s (account %s, subaccounts %s, pace %s, seed %s, %s records/product/day)",
        sim.base_url,
        key,
        ",".join(DEFAULT_SUBACCOUNTS),
        args.pace,
        args.seed,
        args.records_per_day,
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    sim.stop()


if __name__ == "__main__":
    main()

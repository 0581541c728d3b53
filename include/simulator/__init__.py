"""Local simulator of the Vonage Reports API, as documented publicly (summary: docs/vonage-reports-api.md).

See README.md in this folder for usage, settings and the curl walkthrough.
"""

from __future__ import annotations

from include.simulator.clock import SimClock
from include.simulator.config import Account, FaultConfig, SimulatorConfig
from include.simulator.products import PRODUCTS, RECOMMENDED_PRODUCTS
from include.simulator.server import Simulator, running_simulator

__all__ = [
    "PRODUCTS",
    "RECOMMENDED_PRODUCTS",
    "Account",
    "FaultConfig",
    "SimClock",
    "Simulator",
    "SimulatorConfig",
    "running_simulator",
]

"""Fixtures local to the simulator tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from include.simulator import FaultConfig, SimClock, Simulator, SimulatorConfig
from tests.fixtures.simulator import SIM_START


@pytest.fixture
def sim(simulator_factory: Callable[[SimulatorConfig], Simulator]) -> Callable[..., Simulator]:
    """Build a running simulator; rate limits off unless a test asks for them (most tests burst requests)."""

    def make(**kw: Any) -> Simulator:
        kw.setdefault("clock", SimClock(start=SIM_START))
        kw.setdefault("faults", FaultConfig(rate_limit=False))
        return simulator_factory(SimulatorConfig(**kw))

    return make

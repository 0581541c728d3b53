"""Wait until an instant without holding a worker slot, and without deferring when it has passed.

The standard provider's ``DateTimeSensorAsync`` always defers, even for an instant in the past;
a backfill of old days would then pay a trigger round-trip per run and risk the Airflow 3.3
deferral race (docs/airflow-notes.md, Deferral race). This operator checks first and defers only when it must.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseOperator


class WaitUntilOperator(BaseOperator):
    """Succeed once ``target_time`` (an ISO-8601 instant, templated) has passed."""

    template_fields = ("target_time",)

    def __init__(self, *, target_time: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_time = target_time

    def execute(self, context: Any) -> None:
        target = datetime.fromisoformat(str(self.target_time))
        if target.tzinfo is None:
            target = target.replace(tzinfo=UTC)
        if datetime.now(UTC) >= target:
            self.log.info("Target %s has passed; not waiting", target.isoformat())
            return
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        self.log.info("Deferring until %s", target.isoformat())
        self.defer(trigger=DateTimeTrigger(moment=target), method_name="execute_complete")

    def execute_complete(self, context: Any, event: Any = None) -> None:
        self.log.info("Target time reached")

"""Request validation per product, turning each broken rule into the documented problem body.

Why: the pipeline must be tested against the strictest plausible Vonage (docs/vonage-reports-api.md, Sync
records and Where sources disagree): direction required/optional/forbidden by product, `id` exclusive with
dates, both sync dates together, the 24-hour sync window, at most 20 ids, unknown products and parameters
rejected. The same function validates the sync query string and the async JSON body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from include.simulator.config import SimulatorConfig
from include.simulator.problems import invalid_filter, missing, unprocessable
from include.simulator.products import (
    ASYNC_ONLY_PARAMS,
    BASE_PARAMS,
    BOOL_PARAMS,
    ID_MODE_PARAMS,
    PRODUCTS,
    SYNC_ONLY_PARAMS,
    ProductSpec,
)  # fmt: skip

_TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$")


def parse_ts(value: str) -> datetime | None:
    """ISO-8601 with `Z`, `+hh:mm` or `+hhmm` (docs/vonage-reports-api.md, Timestamps); else None."""
    m = _TS.match(value.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, off = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=UTC)
    except ValueError:
        return None
    if frac:
        dt += timedelta(microseconds=int(float(frac) * 1_000_000))
    if off != "Z":
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        dt -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt


def fmt_echo(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class Query:
    """A validated sync or async request."""

    spec: ProductSpec
    account_id: str
    direction: str | None
    start: datetime
    end: datetime
    ids: list[str] | None = None
    include_message: bool = False
    show_concatenated: bool = False
    include_subaccounts: bool = False
    callback_url: str | None = None
    filters: dict[str, str] = field(default_factory=dict)
    echo: dict[str, Any] = field(default_factory=dict)

    @property
    def product(self) -> str:
        return self.spec.name


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise unprocessable(name, "Invalid value: expected true or false")


def products_for(cfg: SimulatorConfig) -> list[str]:
    return [p for p, s in PRODUCTS.items() if cfg.legacy_products or not s.legacy]


def validate(
    params: dict[str, Any], *, mode: Literal["sync", "async"], cfg: SimulatorConfig, now: datetime
) -> Query:
    """Check `params` (query string or JSON body) and return the normalised query, or raise a Problem."""
    account_id = params.get("account_id")
    if account_id in (None, ""):
        raise missing("account_id")
    if not isinstance(account_id, str):
        raise unprocessable("account_id", "Invalid value")
    product = params.get("product")
    allowed_products = products_for(cfg)
    if product not in allowed_products:
        if product in (None, ""):
            raise missing("product")
        raise unprocessable(
            "product",
            "Could not resolve product name. Please use one of the following values "
            f"[{', '.join(sorted(allowed_products))}]",
        )
    spec = PRODUCTS[product]
    mode_params = SYNC_ONLY_PARAMS if mode == "sync" else ASYNC_ONLY_PARAMS
    allowed = (
        BASE_PARAMS | mode_params | spec.filters | ({"direction"} if spec.direction != "forbidden" else set())
    )
    for name, value in params.items():
        if name == "direction" and spec.direction == "forbidden":
            raise unprocessable("direction", f"Parameter direction is not supported for product {product}")
        if name not in allowed:
            raise unprocessable(name, f"Parameter {name} is not supported for product {product}")
        if name not in BOOL_PARAMS and not isinstance(value, str):
            raise unprocessable(name, "Invalid value: expected a string")
    direction = params.get("direction")
    if direction is None and spec.direction == "required":
        raise missing("direction")
    if direction is not None and direction not in ("inbound", "outbound"):
        raise unprocessable("direction", "Invalid value: expected inbound or outbound")

    q = Query(spec, account_id, direction, now - timedelta(days=7), now)
    for b in BOOL_PARAMS & params.keys():
        setattr(q, b, _bool(b, params[b]))
    q.echo = {k: v for k, v in params.items() if k not in ("cursor", "iv")}
    for b in BOOL_PARAMS & params.keys():
        q.echo[b] = getattr(q, b)

    if mode == "sync" and "id" in params:
        extra = sorted(set(params) - ID_MODE_PARAMS)
        if extra:
            raise invalid_filter(
                f"When using id, the following parameters are not supported: [{', '.join(extra)}]"
            )
        ids = [x.strip() for x in params["id"].split(",") if x.strip()]
        if not ids:
            raise unprocessable("id", "Invalid value")
        if len(ids) > cfg.max_ids:
            raise unprocessable("id", f"At most {cfg.max_ids} ids are allowed")
        q.ids = ids
        return q

    has_start, has_end = "date_start" in params, "date_end" in params
    if mode == "sync" and cfg.sync_dates_required and has_start != has_end:
        raise missing("date_end" if has_start else "date_start")
    if mode == "sync" and cfg.sync_dates_required and not has_start:
        raise missing("date_start")
    for name in ("date_start", "date_end"):
        if name in params:
            dt = parse_ts(params[name])
            if dt is None:
                raise unprocessable(
                    name, "Invalid date format, expected yyyy-mm-ddThh:mm:ss[.sss]+hh:mm or Z"
                )
            setattr(q, "start" if name == "date_start" else "end", dt)
            q.echo[name] = fmt_echo(dt)
        else:
            q.echo[name] = fmt_echo(q.start if name == "date_start" else q.end)
    if q.end <= q.start:
        raise unprocessable("date_end", "date_end must be later than date_start")
    if mode == "sync" and cfg.strict_sync_window and q.end - q.start > timedelta(hours=cfg.sync_window_hours):
        raise unprocessable(
            "date_end",
            f"The range between date_start and date_end must not exceed {cfg.sync_window_hours:g} hours",
        )
    if mode == "async" and "callback_url" in params:
        parts = urlsplit(params["callback_url"])
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise unprocessable("callback_url", "Invalid value: expected an http(s) URL")
        q.callback_url = params["callback_url"]
    q.filters = {k: v for k, v in params.items() if k in spec.filters and k not in BOOL_PARAMS}
    if "include_message" in spec.filters:
        q.echo.setdefault("include_message", False)
    return q

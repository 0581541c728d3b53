"""``VonageReportsHook``: turns an Airflow connection into a Reports API client.

Connection (default id ``vonage_default``, conn_type ``http``): login = API key, password = API secret,
host = base URL (``https://api.nexmo.com`` when empty; a bare host gets ``https://`` unless the
connection's schema says ``http``, and the port is appended), extras: ``account_id`` (defaults to the
login) and any :class:`ClientSettings` field (``read_timeout``, ``connect_timeout``,
``async_requests_per_second``, ``sync_requests_per_second``, ``rate_limit_403``, ``max_attempts``,
``max_retry_after`` ...).

The secret is registered with Airflow's secrets masker as soon as it is read, so it is redacted from
task logs even if some library prints it. The account id is checked when it is read (it ends up in file
paths). A rejected credential (401) or a refused account (403 that is not a rate limit) fails the task at
once, without Airflow retries, naming the connection to fix (:func:`fail_fast_on_credentials`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from include.vonage_cdr.client.errors import AuthenticationError, AuthorizationError
from include.vonage_cdr.client.models import DEFAULT_BASE_URL, ClientSettings
from include.vonage_cdr.settings import SettingsError, check_account_id

if TYPE_CHECKING:
    from airflow.sdk import Connection

    from include.vonage_cdr.client import ReportsClient
    from include.vonage_cdr.client.aio import AsyncReportsClient


@dataclass(frozen=True)
class VonageConnParams:
    """What a client needs, read from a connection. The secret is kept out of the repr."""

    base_url: str
    api_key: str
    api_secret: str = field(repr=False)
    account_id: str
    settings: ClientSettings


def _mask(secret: str) -> None:
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older task SDKs
        return
    if secret:
        mask_secret(secret)


def base_url_of(conn: Connection) -> str:
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        return DEFAULT_BASE_URL
    if "://" not in host:
        scheme = conn.schema if conn.schema in ("http", "https") else "https"
        host = f"{scheme}://{host}"
    if conn.port and host.count(":") < 2:
        host = f"{host}:{conn.port}"
    return host


async def _amask(secret: str) -> None:
    """Async masking: the sync variant talks to the supervisor with a blocking send, which must not run
    inside the triggerer's event loop while another coroutine may be mid-send."""
    try:
        from airflow.sdk.log import amask_secret
    except ImportError:  # pragma: no cover - older task SDKs
        return
    if secret:
        await amask_secret(secret)


def params_from_connection(conn: Connection, *, mask: bool = True) -> VonageConnParams:
    extras: dict[str, Any] = dict(conn.extra_dejson or {})
    if not conn.login or not conn.password:
        raise ValueError(
            f"connection {conn.conn_id!r} needs login (Vonage API key) and password (API secret)"
        )
    if mask:
        _mask(conn.password)
    account_id = str(extras.get("account_id") or conn.login)
    try:
        check_account_id(account_id, f"connection {conn.conn_id!r} (extra account_id, else login)")
    except SettingsError as exc:
        raise ValueError(str(exc)) from None
    return VonageConnParams(
        base_url=base_url_of(conn),
        api_key=conn.login,
        api_secret=conn.password,
        account_id=account_id,
        settings=ClientSettings.from_mapping(extras),
    )


def credential_failure_message(conn_id: str, exc: BaseException) -> str:
    """What to tell the user when Vonage refuses the connection's credentials (no secret in it)."""
    if isinstance(exc, AuthenticationError):
        return (
            f"Vonage rejected the credentials of Airflow connection {conn_id!r}: fix its login (API key) and "
            f"password (API secret). Not retried: a retry cannot fix a credential. [{exc}]"
        )
    return (
        f"Vonage refused access with Airflow connection {conn_id!r}: check the account id (the connection's "
        f"extra account_id, or CDR_ACCOUNTS) and that the API key may read it. Not retried. [{exc}]"
    )


@contextmanager
def fail_fast_on_credentials(conn_id: str) -> Iterator[None]:
    """Turn 401/403 (not a rate limit) into ``AirflowFailException``: fail now, no Airflow retries."""
    try:
        yield
    except (AuthenticationError, AuthorizationError) as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(credential_failure_message(conn_id, exc)) from None


class VonageReportsHook(BaseHook):
    """Hook over :class:`ReportsClient` (sync, for workers) and :class:`AsyncReportsClient` (triggers)."""

    conn_name_attr = "vonage_conn_id"
    default_conn_name = "vonage_default"
    conn_type = "http"
    hook_name = "Vonage Reports API"

    def __init__(self, vonage_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vonage_conn_id = vonage_conn_id
        self._params: VonageConnParams | None = None

    def __repr__(self) -> str:
        return f"VonageReportsHook(vonage_conn_id={self.vonage_conn_id!r})"

    # -- sync (workers) ------------------------------------------------------------------------------
    def get_conn_params(self) -> VonageConnParams:
        if self._params is None:
            self._params = params_from_connection(self.get_connection(self.vonage_conn_id))
        return self._params

    def get_client(self) -> ReportsClient:
        p = self.get_conn_params()
        from include.vonage_cdr.client import ReportsClient

        return ReportsClient(p.base_url, p.api_key, p.api_secret, p.settings)

    def get_conn(self) -> ReportsClient:
        return self.get_client()

    @property
    def account_id(self) -> str:
        return self.get_conn_params().account_id

    # -- async (triggerer) ---------------------------------------------------------------------------
    async def aget_conn_params(self) -> VonageConnParams:
        """Read the connection without blocking the event loop (``await BaseHook.aget_connection``)."""
        if self._params is None:
            conn = await self.aget_connection(self.vonage_conn_id)
            self._params = params_from_connection(conn, mask=False)
            await _amask(self._params.api_secret)
        return self._params

    async def aget_async_client(self) -> AsyncReportsClient:
        """An ``AsyncReportsClient``; use it as ``async with await hook.aget_async_client() as c``."""
        p = await self.aget_conn_params()
        from include.vonage_cdr.client.aio import AsyncReportsClient

        return AsyncReportsClient(p.base_url, p.api_key, p.api_secret, p.settings)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema"],
            "relabeling": {"login": "API key", "password": "API secret", "host": "Base URL"},
            "placeholders": {
                "host": DEFAULT_BASE_URL,
                "extra": '{"account_id": "abcd1234", "read_timeout": 30, "rate_limit_403": "body"}',
            },
        }

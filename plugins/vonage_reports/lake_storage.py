"""The lake the pipeline's tasks write: ``CDR_LAKE_ROOT``, with object-store credentials from a connection.

Why a connection and not environment variables: credentials then live where Airflow keeps secrets (the
metadata DB encrypted with the Fernet key, or a secrets backend such as Vault or AWS Secrets Manager), are
masked in task logs, and rotate without redeploying workers. The connection named by ``CDR_LAKE_CONN_ID``
has the shape of the Amazon provider's ``aws`` connection, so the same connection serves that provider's hooks
too, but the provider is not needed:

==============================  ===========================================================================
``login`` / ``password``        access key id / secret access key (both empty: pyarrow's default AWS chain,
                                i.e. ``AWS_*`` variables, ``~/.aws``, the instance or pod role)
``extra.region_name``           the bucket's region (default: asked from the bucket, or ``us-east-1`` with an
                                endpoint)
``extra.endpoint_url``          S3-compatible stores (MinIO, Ceph, ...): ``https://host:port``; also read from
                                ``extra.service_config.s3.endpoint_url`` like the Amazon provider does
``extra.aws_session_token``     temporary credentials
``extra.role_arn``              a role to assume (STS)
``extra.verify``                a CA bundle file for the endpoint's TLS certificate
==============================  ===========================================================================

Without ``CDR_LAKE_CONN_ID`` an ``s3://`` lake uses the default AWS chain; a local lake needs nothing.
"""

from __future__ import annotations

from typing import Any

from include.vonage_cdr.lake import Lake
from include.vonage_cdr.settings import Settings
from include.vonage_cdr.storage import S3Options


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def s3_options(conn_id: str) -> S3Options:
    """Read an ``aws``-shaped Airflow connection into :class:`S3Options` (secrets are never logged)."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    extra: dict[str, Any] = dict(conn.extra_dejson or {})
    s3_config = ((extra.get("service_config") or {}).get("s3") or {}) if isinstance(extra, dict) else {}
    verify = extra.get("verify")
    return S3Options(
        access_key=_text(conn.login),
        secret_key=_text(conn.password),
        session_token=_text(extra.get("aws_session_token")),
        region=_text(extra.get("region_name")),
        endpoint_url=_text(extra.get("endpoint_url") or s3_config.get("endpoint_url") or conn.host),
        role_arn=_text(extra.get("role_arn")),
        ca_file=verify if isinstance(verify, str) and verify else None,
    )


def lake_for(settings: Settings) -> Lake:
    """The configured lake, with the credentials of ``CDR_LAKE_CONN_ID`` when it names one."""
    options = s3_options(settings.lake_conn_id) if settings.lake_conn_id else None
    return Lake(settings.lake_root, s3=options)

"""The hostname Airflow records for a task: ``CDR_WORKER_HOSTNAME`` if set, else this machine's FQDN.

Why: Airflow stores the ``hostname_callable``'s answer on every task instance (the UI's "Hostname", the
heartbeat's identity check). Several Celery workers on one machine (the two-worker test, or a developer
trying the ``celery`` set-up without containers) would all report the same FQDN; naming each worker's
environment lets you see which worker ran what. Point Airflow at it with
``AIRFLOW__CORE__HOSTNAME_CALLABLE=include.devtools.worker_hostname.hostname``. Containers need none of this:
each has its own hostname.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("CDR_WORKER_HOSTNAME") or socket.getfqdn()

"""RFC 7807 problem bodies with the documented type URLs, titles and details.

See docs/vonage-reports-api.md, Error bodies.

Why: clients branch on status code and sometimes on `type`/`title`; one constructor keeps every error of
the simulator in the documented shape (`type`, `title`, `detail`, `instance` = 32-hex trace id, and
`invalid_parameters` on parameter errors), served as application/problem+json.
"""

from __future__ import annotations

import uuid
from typing import Any

ERRORS = "https://developer.nexmo.com/api-errors"
REPORT_ERRORS = ERRORS + "/reports"
PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body.get('title')}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def problem(
    status: int,
    type_url: str,
    title: str,
    detail: str,
    invalid_parameters: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Problem:
    body: dict[str, Any] = {"type": type_url, "title": title, "detail": detail, "instance": uuid.uuid4().hex}
    if invalid_parameters is not None:
        body["invalid_parameters"] = invalid_parameters
    return Problem(status, body, headers)


def unprocessable(name: str, reason: str) -> Problem:
    return problem(422, f"{ERRORS}#invalid-parameters", "Unprocessable entity",
                   f"The request failed due to validation errors: {name}: {reason}",
                   [{"name": name, "reason": reason}])  # fmt: skip


def missing(name: str) -> Problem:
    return unprocessable(name, "Missing required parameter")


def invalid_filter(detail: str) -> Problem:
    return problem(422, f"{REPORT_ERRORS}#invalid-filter", "Invalid filter", detail)


def unauthorized() -> Problem:
    return problem(401, f"{ERRORS}#unauthorized", "Unauthorized", "You did not provide correct credentials.",
                   headers={"WWW-Authenticate": 'Basic realm="api.nexmo.com"'})  # fmt: skip


def forbidden() -> Problem:
    return problem(403, f"{ERRORS}#forbidden", "Forbidden", "User not authorized to query the requested data")


def not_found(report_id: str) -> Problem:
    return problem(404, f"{ERRORS}#not-found", "Invalid report ID",
                   f"Report {report_id} does not exist, or you do not have access.")  # fmt: skip


def file_not_found(file_id: str) -> Problem:
    return problem(404, f"{ERRORS}#not-found", "Not Found",
                   f"File {file_id} does not exist, has expired, or you do not have access.")  # fmt: skip


def malformed_json() -> Problem:
    return problem(400, f"{ERRORS}#invalid-json", "Malformed JSON", "Malformed JSON payload.")


def invalid_abort(state: str) -> Problem:
    return problem(409, f"{REPORT_ERRORS}#invalid-abort-operation", "Invalid Abort Operation",
                   f"The job is already in a terminated state: {state}.")  # fmt: skip


def bad_list_params(detail: str) -> Problem:
    return problem(400, f"{REPORT_ERRORS}#invalid-request-parameters", "Invalid request parameter", detail)


def rate_limited(status: int, retry_after: int, limit: int) -> Problem:
    return problem(status, f"{REPORT_ERRORS}#rate-limit", "Rate Limit Hit",
                   f"Please wait, then retry your request. The limit is {limit} requests per second.",
                   headers={"Retry-After": str(retry_after)})  # fmt: skip


def server_error(status: int) -> Problem:
    return problem(status, f"{ERRORS}#internal-error", "Internal Server Error",
                   "The server encountered an internal error. Please retry.")  # fmt: skip


def optional_part_missing(status: int, part: str) -> Problem:
    """What an implementation without the report list or without id lookups answers (FaultConfig)."""
    if status == 422:
        return unprocessable(part, f"Parameter {part} is not supported")
    if status == 404:
        return problem(404, f"{ERRORS}#not-found", "Not Found", "The requested resource does not exist.")
    return problem(status, f"{ERRORS}#internal-error", "Error", f"The {part} operation failed.")

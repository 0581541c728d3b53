"""Every endpoint and product validated against the official OpenAPI schemas (see openapi_check.py)."""

# ruff: noqa: E501  (request/expectation tables read better one case per line)
from __future__ import annotations

import csv
import io
from pathlib import Path

import requests

from include.simulator import RECOMMENDED_PRODUCTS
from include.simulator.products import PRODUCTS
from tests.citations import API_DOC, citation_problems
from tests.simulator import openapi_check as oc
from tests.simulator.helpers import (
    DAY_END,
    DAY_START,
    auth,
    create,
    download_zip,
    get,
    records,
    wait_terminal,
)

SPEC_PRODUCTS = [*RECOMMENDED_PRODUCTS, "CONVERSATIONS"]


def _directions(product: str) -> list[str | None]:
    return ["outbound", "inbound"] if PRODUCTS[product].direction == "required" else [None]


def test_relaxations_are_named_and_cite_a_section_of_our_api_notes():
    assert len(oc.RELAXATIONS) == len({r.name for r in oc.RELAXATIONS}) <= 8
    for relaxation in oc.RELAXATIONS:
        assert f"{API_DOC}, " in relaxation.reason, relaxation.name
        assert citation_problems(relaxation.reason) == [], relaxation.name


def test_the_spec_files_are_read_from_the_repository():
    root = Path(__file__).resolve().parents[2]
    for spec in (oc.SPEC_FILE, oc.DRAFT_FILE):
        assert spec.is_file() and spec.resolve().is_relative_to(root), spec


def test_sync_responses_and_records_match_the_spec_for_every_product(sim):
    s = sim(records_per_day=50, legacy_products=True)
    for product in SPEC_PRODUCTS:
        for direction in _directions(product):
            params = {"product": product, "date_start": DAY_START, "date_end": DAY_END}
            if direction:
                params["direction"] = direction
            if product in ("SMS", "MESSAGES"):
                params["include_message"] = "true"
            resp = records(s, **params)
            assert resp.status_code == 200, (product, resp.text)
            assert resp.headers["Content-Type"].startswith("application/json")
            body = resp.json()
            assert body["records"], product
            assert oc.sync_errors(body) == [], product
            for rec in body["records"]:
                assert oc.record_errors(product, direction, rec) == [], (product, rec)
                assert rec["id"] and rec[PRODUCTS[product].event_col]


def test_async_report_objects_and_csv_rows_match_the_spec_for_every_product(sim):
    s = sim(records_per_day=20, legacy_products=True)
    ids = []
    for product in SPEC_PRODUCTS:
        body = {"product": product, "date_start": DAY_START, "date_end": DAY_END}
        direction = _directions(product)[0]
        if direction:
            body["direction"] = direction
        resp = create(s, **body)
        assert resp.status_code == 200, resp.text
        assert oc.report_errors(resp.json(), created=True) == [], product
        ids.append((product, direction, resp.json()["request_id"]))
    for product, direction, rid in ids:
        status = wait_terminal(s, rid)
        assert status["request_status"] == "SUCCESS"
        assert oc.report_errors(status) == [], product
        resp, zf = download_zip(s, status["_links"]["download_report"]["href"])
        assert resp.headers["Content-Type"] == oc.documented_media_type()
        with zf.open(zf.namelist()[0]) as fh:
            rows = list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8", newline="")))
        assert len(rows) == status["items_count"] > 0
        for row in rows:
            assert oc.record_errors(product, direction, row, csv=True) == [], (product, row)
    listing = get(s, "/v2/reports", account_id=s.api_key, status="SUCCESS")
    assert listing.status_code == 200
    assert listing.json()["items_count"] == len(ids)
    assert oc.list_errors(listing.json()) == []


def test_cancel_response_matches_the_spec(sim):
    s = sim(pending_seconds=3600)
    rid = create(s, product="VOICE-CALL").json()["request_id"]
    resp = requests.delete(f"{s.base_url}/v2/reports/{rid}", auth=auth(s), timeout=10)
    assert resp.status_code == 200
    assert resp.json()["request_status"] == "ABORTED"
    assert oc.report_errors(resp.json()) == []


def test_error_bodies_match_the_documented_error_responses(sim):
    s = sim()
    cases = [
        (records(s, product="SMS", direction="outbound"), "/v2/reports/records", "get", 422),
        (records(s, product="NOPE", date_start=DAY_START, date_end=DAY_END), "/v2/reports/records", "get", 422),
        (records(s, product="SMS", direction="outbound", id="x", date_start=DAY_START), "/v2/reports/records", "get", 422),
        (records(s, account_id="other999", product="VOICE-CALL", date_start=DAY_START, date_end=DAY_END),
         "/v2/reports/records", "get", 403),
        (requests.post(f"{s.base_url}/v2/reports", data="{nope", auth=auth(s), timeout=10), "/v2/reports", "post", 400),
        (create(s, product="SMS"), "/v2/reports", "post", 422),
        (requests.get(f"{s.base_url}/v2/reports/abc", auth=("abcd1234", "wrong"), timeout=10),
         "/v2/reports/{report_id}", "get", 401),
        (get(s, "/v2/reports/abc"), "/v2/reports/{report_id}", "get", 404),
        (get(s, "/v2/reports", account_id=s.api_key), "/v2/reports", "get", 400),
        (get(s, "/v3/media/abc"), "/v3/media/{file_id}", "get", 404),
    ]  # fmt: skip
    for resp, path, method, status in cases:
        assert resp.status_code == status, (path, resp.text)
        assert resp.headers["Content-Type"].startswith("application/problem+json")
        assert oc.error_errors(path, method, status, resp.json()) == [], (path, resp.json())


def test_draft_only_sync_params_are_accepted(sim):
    """The 2022-04 draft adds sync `from`/`to` and 'up to 20' ids; the simulator honours both."""
    assert {"from", "to"} <= oc.draft_sync_param_names()
    s = sim()
    first = records(s, product="SMS", direction="outbound", date_start=DAY_START, date_end=DAY_END).json()[
        "records"
    ][0]
    resp = records(
        s, product="SMS", direction="outbound", date_start=DAY_START, date_end=DAY_END, to=first["to"]
    )
    assert resp.status_code == 200
    assert {r["to"] for r in resp.json()["records"]} == {first["to"]}
    assert records(s, product="SMS", direction="outbound", id=",".join(["a"] * 21)).status_code == 422

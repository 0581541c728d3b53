"""The product registry is internally consistent, so every table built from it is loadable and queryable."""

from __future__ import annotations

import re

import pytest

from include.vonage_cdr.products import (
    COLUMN_TYPES,
    DEFAULT_PRODUCTS,
    PRODUCTS,
    TECHNICAL_COLUMNS,
    get_product,
)

# PostgreSQL 15 keywords that cannot be plain column names (pg_get_keywords() catcode 'R' and 'T').
PG_RESERVED = frozenset(
    [
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "binary",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "collation",
        "column",
        "concurrently",
        "constraint",
        "create",
        "cross",
        "current_catalog",
        "current_date",
        "current_role",
        "current_schema",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "natural",
        "not",
        "notnull",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "overlaps",
        "placing",
        "primary",
        "references",
        "returning",
        "right",
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "system_user",
        "table",
        "tablesample",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
    ]
)
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CROSS_VIEW_FIELDS = (
    "price_column",
    "currency_column",
    "status_column",
    "country_column",
    "from_column",
    "to_column",
    "network_column",
)

EXPECTED_PRODUCTS = {
    "SMS",
    "SMS-TRAFFIC-CONTROL",
    "VOICE-CALL",
    "VOICE-FAILED",
    "VOICE-TTS",
    "IN-APP-VOICE",
    "WEBSOCKET-CALL",
    "ASR",
    "AMD",
    "VERIFY-API",
    "VERIFY-V2",
    "NUMBER-INSIGHT",
    "NUMBER-INSIGHT-V2",
    "MESSAGES",
    "CONVERSATION-EVENT",
    "CONVERSATION-MESSAGE",
    "VIDEO-API",
    "NETWORK-API-EVENT",
    "REPORTS-USAGE",
}


def test_registry_holds_the_19_recommended_products_and_defaults_are_among_them() -> None:
    assert set(PRODUCTS) == EXPECTED_PRODUCTS
    assert set(DEFAULT_PRODUCTS) <= EXPECTED_PRODUCTS


@pytest.mark.parametrize("name", sorted(EXPECTED_PRODUCTS))
def test_product_columns_are_valid_unique_unreserved_identifiers(name: str) -> None:
    product = PRODUCTS[name]
    names = product.column_names
    sources = product.source_names
    assert len(set(names)) == len(names), "db column names must be unique"
    assert len(set(sources)) == len(sources), "wire field names must be unique"
    for column in product.columns:
        assert IDENTIFIER.match(column.name), column.name
        assert column.name not in PG_RESERVED, column.name
        assert column.name not in TECHNICAL_COLUMNS, f"{column.name} collides with a technical column"
        assert column.type in COLUMN_TYPES
        assert column.description.strip(), f"{name}.{column.source} has no description"
    assert IDENTIFIER.match(product.table)


@pytest.mark.parametrize("name", sorted(EXPECTED_PRODUCTS))
def test_product_keys_and_cross_view_fields_point_at_known_columns(name: str) -> None:
    product = PRODUCTS[name]
    assert product.record_id == "id"
    assert product.column(product.record_id).type == "text"
    assert product.column(product.event_time).type == "timestamptz"
    for field in CROSS_VIEW_FIELDS:
        source = getattr(product, field)
        if source is not None:
            assert product.has_column(source), f"{name}.{field} = {source!r} is not a column"
    if product.price_column:
        assert product.column(product.price_column).type == "numeric"
    assert (product.directions == ("inbound", "outbound")) == (product.direction == "required")


def test_prices_are_exact_decimals_and_renames_follow_the_contract() -> None:
    for product in PRODUCTS.values():
        for column in product.columns:
            if column.source in {"price", "total_price", "estimated_price"}:
                assert column.type == "numeric"
    sms = get_product("SMS")
    assert sms.column("from").name == "from_address"
    assert sms.column("to").name == "to_address"
    assert {"message_body", "concatenated"} <= set(sms.source_names)
    verify = get_product("VERIFY-API")
    assert {"verify_status", "status"} <= set(verify.source_names)
    assert get_product("VIDEO-API").retention_days == 90
    assert get_product("SMS").settles_within_hours == 72


def test_unknown_product_error_lists_the_valid_names() -> None:
    with pytest.raises(KeyError, match="VIDEO-API"):
        get_product("FAX")
    assert get_product("sms").name == "SMS"


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_identity_and_billing_columns_are_required_and_never_optional(name: str) -> None:
    product = PRODUCTS[name]
    required = set(product.required_sources)
    wanted = {
        "account_id",
        product.record_id,
        product.event_time,
        product.price_column,
        product.currency_column,
    }
    assert required == wanted - {None}
    assert not required & product.optional_sources
    for direction in product.directions or (None,):
        assert required <= set(product.expected_sources(direction))
    assert {product.presence(s) for s in required} == {"required"}

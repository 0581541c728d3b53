"""The committed data dictionary is current and says what the migrated database says."""

from __future__ import annotations

from pathlib import Path

from include.vonage_cdr.products import PRODUCTS
from include.vonage_cdr.warehouse import dictionary
from tests.fixtures.warehouse import MigratedWarehouse


def test_committed_data_dictionary_is_up_to_date(tmp_path: Path) -> None:
    expected = dictionary.render(dictionary.catalog_from_migrations())
    assert dictionary.DICTIONARY_FILE.read_text(encoding="utf-8") == expected, "run `make docs`"
    assert dictionary.main(["--check"]) == 0
    stale = tmp_path / "dd.md"
    stale.write_text("old")
    assert dictionary.main(["--check", "--output", str(stale)]) == 1


def test_dictionary_explains_every_product_column_with_its_wire_field() -> None:
    text = dictionary.DICTIONARY_FILE.read_text(encoding="utf-8")
    for product in PRODUCTS.values():
        assert f"### `cdr.{product.table}` (product {product.name})" in text
        for column in product.columns:
            assert f"| `{column.name}` | {column.type} | `{column.source}` |" in text
    assert "analytics.freshness" in text and "every 5 minutes" in text


def test_migration_comments_match_the_database_and_cover_every_column(
    migrated_warehouse: MigratedWarehouse,
) -> None:
    from_files = dictionary.catalog_from_migrations()
    from_db = dictionary.catalog_from_database(migrated_warehouse.dsn)
    assert set(from_files) == set(from_db)
    for name, relation in from_db.items():
        assert relation.comment, f"{name} has no COMMENT"
        assert relation.comment == from_files[name].comment, name
        assert list(relation.columns) == list(from_files[name].columns), name
        for column, (_, comment) in relation.columns.items():
            assert comment, f"{name}.{column} has no COMMENT"
            assert comment == from_files[name].columns[column][1], f"{name}.{column}"


def test_dictionary_states_the_video_rules_and_restricted_columns_the_database_applies(
    migrated_warehouse: MigratedWarehouse,
) -> None:
    import psycopg

    with psycopg.connect(migrated_warehouse.dsn) as conn:
        features = conn.execute(
            "SELECT feature_key, feature, measure, description FROM cdr.video_feature ORDER BY feature_key"
        ).fetchall()
        restricted = set(conn.execute("SELECT table_name, column_name FROM cdr.restricted_column").fetchall())
    assert sorted(dictionary.video_features_from_migrations()) == features
    assert dictionary.restricted_columns_from_migrations() == restricted
    text = dictionary.DICTIONARY_FILE.read_text(encoding="utf-8")
    for key, feature, _, _ in features:
        assert f"| {key} | `{feature}` |" in text
    assert text.count(dictionary.RESTRICTED_NOTE) == len(restricted)
    assert "sum(delivered_count) /" in text and "analytics.round_money" in text

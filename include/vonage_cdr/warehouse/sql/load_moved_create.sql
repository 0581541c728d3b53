-- Rows taken out of the product table because their record's event time changed (see load_move.sql).
CREATE TEMP TABLE {moved} (LIKE {target}) ON COMMIT DROP

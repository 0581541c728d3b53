-- A reload of a window replaces that window's quarantined rows instead of piling up copies.
DELETE FROM cdr.quarantine
WHERE product = %(product)s
  AND account_id = %(account_id)s
  AND direction = %(direction)s
  AND window_start = %(window_start)s
  AND window_end = %(window_end)s

-- Monthly partitions of the one product table being loaded, over the load's range (own short transaction).
SELECT cdr.ensure_product_partitions(%(table)s, %(from)s, %(to)s)

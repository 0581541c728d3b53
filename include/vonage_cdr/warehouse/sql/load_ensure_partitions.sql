-- Monthly partitions for every product table over the load's range (own short transaction).
SELECT cdr.ensure_partitions(%(from)s, %(to)s)

"""``make soak``: days of both DAGs against a faulty simulator, then an exact comparison with ground truth.

See runner.py for the timeline, faults.py for the fault profile, compare.py for what missing, duplicated
and stale mean, kill.py for the load killed mid-COPY. Run ``python -m include.devtools.soak --help``.
"""

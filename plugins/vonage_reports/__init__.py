"""Airflow glue for the Vonage Reports API: hook, trigger and deferrable operator.

The library they wrap (``include.vonage_cdr.client``) has no Airflow imports; keep it that way.
"""

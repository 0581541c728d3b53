"""Checks the docker-compose deployment runs before it migrates anything (``airflow-init``)."""

# syntax=docker/dockerfile:1
# The project image: Airflow 3.3.2 plus our pinned dependencies and code. Every component (api-server,
# scheduler, dag-processor, triggerer, Celery workers) and the Reports API simulator run this image, so
# a worker on another machine runs exactly the code the scheduler parsed.
#   docker compose build                      (or: docker build -t vonage-cdr-airflow:latest .)
ARG AIRFLOW_BASE_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_BASE_IMAGE}

# strict: fail the build when the installed set is inconsistent (`pip check`); warn: only report it.
ARG AIRFLOW_BASE_IMAGE
ARG PIP_CHECK=strict

# Install as the airflow user, as the image expects (https://airflow.apache.org/docs/docker-stack/build.html).
USER airflow
WORKDIR /opt/airflow

# Dependencies first, so code changes do not reinstall them. constraints.txt is the project's full lock
# (Airflow's own constraint files cannot be downloaded in our build environments).
COPY --chown=airflow:0 requirements.txt constraints.txt /opt/airflow/
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt \
    && if ! pip check; then \
         echo "pip check failed: the lock conflicts with packages preinstalled in ${AIRFLOW_BASE_IMAGE}" >&2; \
         if [ "${PIP_CHECK}" = strict ]; then exit 1; fi; \
       fi

COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 include/ /opt/airflow/include/

# include/ (the domain library) and plugins/ import in every process, the triggerer included. The
# data dirs exist in the image so a fresh named volume mounted there starts owned by airflow.
ENV PYTHONPATH=/opt/airflow:/opt/airflow/plugins
RUN mkdir -p /opt/airflow/data/lake /opt/airflow/data/work \
    && python -c "import include.vonage_cdr.settings, include.simulator, include.deploy.preflight, vonage_reports.hooks"

# syntax=docker/dockerfile:1
# One image for every wagate service and the `wagate` command; the command picks one:
# `python -m services.<name>` (deploy/k8s sets it per Deployment, `... migrate` per Job).
# Build: docker build -t wagate .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Stage 1: the dependencies from requirements.lock (pinned and hashed: `make lock`), cached until
# the lock changes, then wagate itself without them: its packages, the `wagate` script and the
# client package wagate_client (clients/python/src, which pyproject.toml's package list includes
# and the CLI and the examples import).
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
COPY requirements.lock ./
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY shared ./shared
COPY services ./services
COPY cli ./cli
COPY clients/python/src ./clients/python/src
RUN /opt/venv/bin/pip install --no-deps . \
    && /opt/venv/bin/pip uninstall --yes pip setuptools \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

# Stage 2: the runtime: the virtualenv alone, no build tools, no source tree, a non-root user.
FROM ${PYTHON_IMAGE}
# The source revision, shown by every service's wagate_build_info metric.
ARG WAGATE_REVISION=unknown
ENV WAGATE_REVISION=${WAGATE_REVISION}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 wagate \
    && useradd --system --uid 10001 --gid wagate --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin wagate
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
# ingest, templates, policy, dispatch, the console, the sandbox
EXPOSE 8081 8082 8083 8084 8085 8090
CMD ["python", "-m", "services.ingest"]

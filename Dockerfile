# syntax=docker/dockerfile:1
# One image for every wagate service; the command picks one: `python -m services.<name>`
# (deploy/k8s sets it per Deployment). Build: docker build -t wagate .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Stage 1: the dependencies in a virtualenv, from pyproject.toml alone (cached until it changes).
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install -r requirements.txt \
    && /opt/venv/bin/pip uninstall --yes pip setuptools

# Stage 2: the runtime: the virtualenv and the source, no build tools, a non-root user.
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
COPY shared ./shared
COPY services ./services
COPY cli ./cli
# Compiled here (pip compiled the dependencies): the root filesystem is read-only in the pods.
RUN python -m compileall -q /app
USER 10001:10001
EXPOSE 8081 8082 8083 8084 8090
CMD ["python", "-m", "services.ingest"]

# Oprit as a container image: a webhook worker by default (`oprit webhook`), any other
# `oprit` command as the container's arguments. See docs/deploy.md, "Containers".
#
# Build:  docker build -t oprit .
# It holds no settings and no secrets: they come from the environment or from files in
# /run/secrets at run time (compose.yaml). Meant to run with a read-only root filesystem;
# /var/lib/oprit/data (SQLite for a pilot, the key file) is the only place it writes to.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the locked dependencies, then the wheel of Oprit, into one virtual environment
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/oprit
COPY requirements.lock ./
RUN /opt/oprit/bin/pip install --require-hashes --requirement requirements.lock
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY locales locales
COPY bot bot
COPY handlers handlers
COPY db db
RUN /opt/oprit/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/oprit/bin/pip install --no-deps /wheels/oprit-*.whl

# --- run: the virtual environment on a slim Python, as an unprivileged user
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 oprit \
    && useradd --system --uid 10001 --gid oprit --home-dir /var/lib/oprit \
        --shell /usr/sbin/nologin oprit \
    && install -d -o oprit -g oprit -m 0750 /var/lib/oprit /var/lib/oprit/data
COPY --from=build /opt/oprit /opt/oprit
COPY container/healthcheck.py /opt/oprit/healthcheck.py
ENV PATH=/opt/oprit/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    OPRIT_WEBHOOK_LISTEN=0.0.0.0:8080
WORKDIR /var/lib/oprit
USER 10001:10001
VOLUME ["/var/lib/oprit/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/opt/oprit/healthcheck.py"]
ENTRYPOINT ["oprit"]
CMD ["webhook"]

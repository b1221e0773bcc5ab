# syntax=docker/dockerfile:1
# The c360 hub. Two stages: wheels are built in the builder (it has the compilers), the
# final slim image only installs them, so no build tools ship in the image.

FROM python:3.11-slim AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schema ./schema
COPY resolvers ./resolvers
COPY graph ./graph
COPY ingest ./ingest
COPY privacy ./privacy
COPY sentiment ./sentiment
COPY hub ./hub
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# libgomp1: the runtime library the embedded FalkorDB module links (used when
# C360_GRAPH_URL is empty); a shared library, not a build tool.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels c360 \
    && rm -rf /wheels
RUN useradd --system --uid 10001 --create-home --home-dir /home/c360 c360 \
    && mkdir -p /data \
    && chown c360:c360 /data
ENV C360_HOST=0.0.0.0 \
    C360_PORT=8000 \
    C360_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
USER c360
WORKDIR /home/c360
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["c360"]
CMD ["serve"]

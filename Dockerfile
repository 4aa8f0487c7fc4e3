# syntax=docker/dockerfile:1
# Both stages on the same base, pinned by digest (the multi-platform index of python:3.11-slim, Python
# 3.11.15 on Debian trixie); a new digest is a reviewed change.
# Build stage: build a wheel and install it with its dependencies into a virtualenv.
FROM python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY agent ./agent
COPY checks ./checks
COPY collectors ./collectors
COPY mappings ./mappings
COPY deploy/verifier/posture_verify ./deploy/verifier/posture_verify
RUN python -m venv /opt/posture-agent \
 && /opt/posture-agent/bin/pip install --upgrade pip \
 && /opt/posture-agent/bin/pip install .

# Runtime stage: slim, non-root, read-only root filesystem friendly (data lives on a volume).
FROM python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff
RUN groupadd --system --gid 10001 posture \
 && useradd --system --uid 10001 --gid posture --home-dir /var/lib/posture-agent --no-create-home posture \
 && mkdir -p /var/lib/posture-agent /etc/posture-agent \
 && chown posture:posture /var/lib/posture-agent
COPY --from=build /opt/posture-agent /opt/posture-agent
COPY deploy/config.example.yaml /etc/posture-agent/config.yaml
ENV PATH=/opt/posture-agent/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    POSTURE_DATA_DIR=/var/lib/posture-agent \
    POSTURE_CONFIG=/etc/posture-agent/config.yaml \
    HOME=/var/lib/posture-agent
USER 10001:10001
VOLUME ["/var/lib/posture-agent"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status == 200 else 1)"]
# OCI annotations, last so that a new revision rebuilds no layer. Set them when building:
#   docker build --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" --build-arg SOURCE=https://REPOSITORY-URL .
ARG VERSION=0.1.0
ARG REVISION=""
ARG CREATED=""
ARG SOURCE=""
LABEL org.opencontainers.image.title="posture-agent" \
      org.opencontainers.image.description="Continuous SOC 2 compliance monitoring: cloud and endpoint snapshots, checks mapped to SOC 2 and other frameworks, tamper-evident evidence, drift metrics and alerts." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim" \
      org.opencontainers.image.base.digest="sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff"
ENTRYPOINT ["posture-agent", "run"]
CMD ["--config", "/etc/posture-agent/config.yaml"]

# syntax=docker/dockerfile:1
# Build stage: build a wheel and install it with its dependencies into a virtualenv.
FROM python:3.11-slim AS build
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
FROM python:3.11-slim
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
ENTRYPOINT ["posture-agent", "run"]
CMD ["--config", "/etc/posture-agent/config.yaml"]

"""``run --role scheduler|worker``: the two processes of a deployment past one machine (agent/scale/).
Both need PostgreSQL (one store for all) and ``scale.broker`` (RabbitMQ); ``run`` without a role is the
embedded default, unchanged."""

from __future__ import annotations

import logging
import os
import socket
import threading
from enum import StrEnum
from typing import Any

from agent.config import Config
from agent.errors import ConfigError, Problem, UsageError

__all__ = ["Role", "check_scaled", "run_scheduler", "run_worker"]

log = logging.getLogger("agent.worker")


class Role(StrEnum):
    all = "all"
    scheduler = "scheduler"
    worker = "worker"


def check_scaled(cfg: Config, url: str, role: Role) -> str:
    """The broker URL, once the config can run ``role``: named errors otherwise."""
    if not url.startswith("postgresql"):
        raise UsageError(
            f"--role {role.value} needs PostgreSQL as its store (database: postgresql+psycopg://...): "
            "every scheduler and worker writes to the same one"
        )
    if cfg.scale.broker is None:
        raise ConfigError(
            [Problem("scale.broker", f"required for --role {role.value} (env:NAME or file:/path of an amqp:// URL)")]
        )
    broker = cfg.scale.broker.reveal()
    if not broker.startswith(("amqp://", "amqps://", "pyamqp://")):
        raise ConfigError([Problem("scale.broker", f"{cfg.scale.broker.ref} must hold an amqp:// or amqps:// URL")])
    return broker


def run_scheduler(cfg: Config, pipeline: Any, broker: str, address: tuple[str, int] | None) -> int:
    from agent.scale.scheduler import SweepScheduler

    return SweepScheduler(cfg, pipeline, broker, listen=address).run_forever()


def run_worker(cfg: Config, pipeline: Any, broker: str, address: tuple[str, int] | None, providers: list[str]) -> int:
    from agent.http import AgentHTTPServer, limits_from
    from agent.scale.worker import WorkerRuntime, queues_for

    unknown = sorted(set(providers) - {s.provider for s in cfg.sources})
    if unknown:
        raise UsageError(f"--queue {', '.join(unknown)}: no source of the config has that provider")
    runtime = WorkerRuntime(cfg, pipeline, broker, queues_for(cfg, providers))
    store = pipeline.store

    def readiness() -> tuple[bool, dict[str, Any]]:
        ok = store.ping()
        return ok, {"store": "ok" if ok else "unreachable", "queues": runtime.queues}

    host, port = address or cfg.listen_host_port
    http = AgentHTTPServer(host, port, pipeline.metrics.registry, readiness, limits=limits_from(cfg.http))
    http.start()
    log.info("worker started", extra={"queues": runtime.queues, "listen": f"{host}:{http.address[1]}"})
    try:
        runtime.run(hostname=f"posture@{socket.gethostname()}.{os.getpid()}")
    finally:
        runtime.cancel.set()
        threading.Thread(target=http.stop, daemon=True).start()
    return 0

"""The Celery application both roles share: one durable queue per provider (a slow provider cannot
starve the others), late acknowledgement with a prefetch of one (a worker killed mid-task leaves
its task to another), JSON messages only, no result backend (the store is where results go).

Imported only by ``run --role scheduler|worker``: the default role never loads Celery.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["TASK", "make_app", "queue_of"]

TASK = "posture.collect_account"


def queue_of(provider: str, prefix: str = "posture") -> str:
    return f"{prefix}.{provider}"


def make_app(broker_url: str, providers: Iterable[str], prefix: str = "posture") -> Any:
    """A Celery app on ``broker_url`` (amqp://...) declaring one queue per provider."""
    from celery import Celery
    from kombu.entity import Queue

    app = Celery("posture-agent", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # acknowledged once recorded: a worker killed mid-task is redelivered
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_queues=[Queue(queue_of(p, prefix), durable=True) for p in sorted(set(providers))],  # type: ignore[no-untyped-call]
        task_create_missing_queues=False,
        task_default_delivery_mode="persistent",
        broker_connection_retry_on_startup=True,
        broker_transport_options={"confirm_publish": True},  # publish returns once RabbitMQ has the task
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,  # no pidbox queues: workers take tasks, nothing else
    )
    return app

"""Daemon.stop() waits for every job that started, the evidence jobs included, and starts none after."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from agent.config import parse_config
from agent.cycle import Pipeline
from agent.daemon import Daemon
from agent.models import utcnow
from agent.store import Store
from tests.conftest import free_port


# at start, then hourly: the shape of the daemon's own jobs (a one-shot "date" job races APScheduler's
# own shutdown, which the daemon never schedules)
def at_start() -> dict[str, Any]:
    return {"trigger": IntervalTrigger(hours=1), "next_run_time": utcnow()}


def _daemon(tmp_path: Path) -> Daemon:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    cfg = parse_config(f"database: {db}\nlisten: 127.0.0.1:{free_port()}\nsources: []\n", env={})
    store = Store(db)
    store.upgrade()
    return Daemon(cfg, Pipeline(cfg, store))


def test_stop_waits_for_a_job_that_is_writing(tmp_path: Path) -> None:
    daemon = _daemon(tmp_path)
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_job() -> None:  # stands for a checkpoint in the middle of its transaction
        started.set()
        release.wait(30)
        finished.set()

    daemon.scheduler.add_job(slow_job, id="slow", **at_start())
    daemon.start()
    assert started.wait(30)
    threading.Timer(0.2, release.set).start()
    clean = daemon.stop(grace=30)
    assert clean and finished.is_set()  # stop() returned after the job, not while it still wrote
    daemon.pipeline.store.close()


def test_stop_reports_a_job_that_outlives_the_grace(tmp_path: Path) -> None:
    daemon = _daemon(tmp_path)
    started, release = threading.Event(), threading.Event()
    daemon.scheduler.add_job(lambda: (started.set(), release.wait(30)), id="stuck", **at_start())
    daemon.start()
    assert started.wait(30)
    try:
        assert daemon.stop(grace=0.1) is False
    finally:
        release.set()
        daemon.pipeline.store.close()


def test_no_job_starts_after_stop(tmp_path: Path) -> None:
    daemon = _daemon(tmp_path)
    ran = threading.Event()
    daemon.scheduler.add_job(ran.set, id="late", **at_start())
    job = daemon.scheduler.get_job("late")
    daemon.start()
    daemon.stop(grace=5)
    ran.clear()
    job.func()  # what an executor thread that was handed the job just before stop() would run
    assert not ran.is_set()
    daemon.pipeline.store.close()

"""Benchmark: one sweep of an AWS organisation by 1, 2, 4... `posture-agent run --role worker` processes.

Past one machine (issue #19) a sweep is one task per account on RabbitMQ and workers that each run
the ordinary pipeline for one account at a time and record it in one PostgreSQL store. This measures
how a sweep's wall time falls with the number of workers, what each worker costs in memory, and how
long each account holds the store's one serialised write (every run's transaction takes the evidence
chain's advisory lock, so that part cannot run in parallel however many workers there are).

Set-up, once: a fresh `moto_server` (bench/aws_scan.py's Moto) seeded with an organisation of
``--accounts`` member accounts (default 200) plus the management account, each member with one IAM
user without MFA, one access key and one S3 bucket without versioning or a public access block;
then a latency proxy (deploy/demo/posture_demo/awsproxy.py's AwsProxy, a Fault that only delays, in a
process of its own) in front of moto, adding ``--latency-ms`` (default 50) to every AWS call the
scheduler and the workers make, so that waiting on the network, not moto's CPU, is what workers
overlap. Seeding goes to moto directly and is not measured. A private PostgreSQL database is
created for the benchmark (advisory locks are per database: nobody else's test contends for the
chain lock) and dropped at the end.

The agent measured is a commit (``--agent-ref``, default HEAD) exported with git archive, as
bench/aws_scan.py does: other engineers edit the working tree meanwhile. The workers import it
through PYTHONPATH, this process's scheduler through sys.path.

Per run (each worker count of ``--workers``, order alternated between repetitions, ``--runs`` times):
a fresh schema migrated with Store.upgrade(), a fresh queue prefix (its queue deleted afterwards), K
worker processes started and waited for until RabbitMQ shows K consumers on the queue. A worker is
the real CLI, `posture-agent run --role worker --config F --listen 127.0.0.1:P` (the exported
commit's own entry point, called as its console script does), with default settings: each task's
collection runs in a child process. Then the scheduler runs in this process, as in
tests/integration/scale/test_sweep_workers.py: SweepScheduler(...).sweep(source) lists the
organisation's accounts through the proxy, opens the sweep and publishes one task per account, and
the sweep is timed from that call until the store has a run for every account (polled every 100 ms).
``--sweeps 2`` sweeps the same, unchanged organisation a second time with the same workers and
store (default 1): the first sweep writes every finding for the first time, the second is the
steady state (no finding changes). Scope of every sweep: source `org`, `organization: true`, `regions:
[us-east-1]`, `services: [iam, s3]`.

Measured per sweep:

  wall           from the sweep() call (expansion and publishing included) to the last account
                 recorded; accounts/min from it; speed-up against the median wall of 1 worker;
  peak RSS       /proc VmRSS of each worker and its descendants (the collection's child) summed,
                 sampled every 100 ms, the peak per worker tree; the table gives the largest worker's;
  store s/acct   `timings.store` of each run's "collection finished" JSON log line in the workers'
                 logs: the store stage of that account as the worker saw it, i.e. the bodies'
                 transaction before the lock (PostgreSQL, Store.stage_bodies) and the cycle's locked
                 transaction, waiting for the lock included; median and p95, and the median of the
                 first and last fifth of the sweep's accounts (by finish time): does it grow with
                 the store?
  lock held      share of the 100 ms samples of pg_locks in which the chain's advisory lock (727376)
                 was granted to someone, and the mean number waiting for it; lock-held seconds per
                 account = share x wall / accounts: the serialised part, estimated from outside;
  CPU            user+system seconds of each worker, its reaped children included (/proc stat), per
                 account; moto's CPU over the sweep;
  requests       moto's access log lines over the sweep (the proxy forwards every call);
  idle waits     from the workers' Celery log lines: each time a worker finished a task while the
                 queue still had ready tasks (before the first 100 ms sample that found it empty)
                 and received its next one more than 0.5 s later, the wait up to that sample;
  checks         runs per account since the sweep opened (snapshots of the account in the store:
                 exactly one), run statuses, task outcomes from the workers' /metrics
                 (posture_worker_tasks_total), error lines in the workers' logs, exit codes on SIGTERM.

    .venv/bin/python bench/scale_sweep.py                       # 200 accounts, workers 1,2,4, 2 runs
    .venv/bin/python bench/scale_sweep.py --runs 1 --sweeps 2   # and a second, unchanged sweep
    .venv/bin/python bench/scale_sweep.py --accounts 20 --workers 1,2 --runs 1
    .venv/bin/python bench/scale_sweep.py --json /tmp/scale.json

Needs RabbitMQ (``--broker``, default amqp://guest:guest@127.0.0.1:5672//) and PostgreSQL
(``--pg``, default postgresql+psycopg://postgres@127.0.0.1:5432/test, a role that may CREATE DATABASE).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "deploy" / "demo"))

from aws_scan import Moto, _rss_kb, _tree, export_agent, free_port, moto_version  # noqa: E402

BIN = Path(sys.executable).parent
CHAIN_LOCK = 727376  # agent/store/db.py: Store.transaction's pg_advisory_xact_lock
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
SERVICES = ["iam", "s3"]
REGIONS = ["us-east-1"]
BROKER_ENV = "POSTURE_BENCH_BROKER"
TICK = 0.1


# -- the latency proxy, in a process of its own ---------------------------------------------------


def serve_proxy(upstream: str, latency_ms: float, port: int) -> None:
    """`scale_sweep.py --serve-proxy URL`: AwsProxy with one rule that only delays every request."""
    from posture_demo.awsproxy import AwsProxy, Fault

    proxy = AwsProxy(upstream, faults=[Fault(status=None, delay=latency_ms / 1000)], port=port).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(proxy.url, flush=True)
    done.wait()
    proxy.stop()


class Proxy:
    def __init__(self, upstream: str, latency_ms: float, log: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = log.open("wb")
        argv = [sys.executable, __file__, "--serve-proxy", upstream, "--latency-ms", str(latency_ms)]
        self.proc = subprocess.Popen([*argv, "--proxy-port", str(port)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{self.url}/moto-api/", timeout=2)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise SystemExit(f"the latency proxy did not start: {log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# -- seeding (straight to moto, once, not measured) -----------------------------------------------


def seed(url: str, members: int) -> list[str]:
    """An organisation of ``members`` accounts, each with one user without MFA (with an access key)
    and one bucket without versioning; returns every account id, the management account first."""
    import boto3

    kw = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
    org = boto3.client("organizations", endpoint_url=url, **kw)
    sts = boto3.client("sts", endpoint_url=url, **kw)
    org.create_organization(FeatureSet="ALL")
    management = sts.get_caller_identity()["Account"]
    lock = threading.Lock()

    def member(n: int) -> str:
        with lock:  # moto's organizations backend hands out ids; one at a time keeps it simple
            made = org.create_account(Email=f"m{n}@example.com", AccountName=f"member-{n}")
        account = made["CreateAccountStatus"]["AccountId"]
        role = f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        c = sts.assume_role(RoleArn=role, RoleSessionName="seed")["Credentials"]
        creds = {
            "aws_access_key_id": c["AccessKeyId"],
            "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"],
            "region_name": "us-east-1",
        }
        iam = boto3.client("iam", endpoint_url=url, **creds)
        iam.create_user(UserName=f"user-{n}")
        iam.create_access_key(UserName=f"user-{n}")
        boto3.client("s3", endpoint_url=url, **creds).create_bucket(Bucket=f"bench-{account}")
        return account

    boto3.client("iam", endpoint_url=url, **kw), boto3.client("s3", endpoint_url=url, **kw)  # models load first
    with ThreadPoolExecutor(max_workers=8) as pool:
        accounts = list(pool.map(member, range(members)))
    return [management, *accounts]


# -- PostgreSQL and RabbitMQ ----------------------------------------------------------------------


class Database:
    """A database of the benchmark's own; one schema per run."""

    def __init__(self, base: str) -> None:
        self.name = f"posture_bench_{uuid.uuid4().hex[:10]}"
        self.admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = base.rsplit("/", 1)[0] + f"/{self.name}"
        self.engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")

    def schema(self) -> tuple[str, str]:
        name = f"run_{uuid.uuid4().hex[:10]}"
        with self.engine.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        return name, f"{self.url}?options={quote(f'-csearch_path={name}')}"

    def drop_schema(self, name: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def consumers(broker: str, queue: str) -> int:
    from kombu import Connection

    with Connection(broker, connect_timeout=3) as conn:
        try:
            return int(conn.default_channel.queue_declare(queue=queue, passive=True).consumer_count)
        except Exception:  # not declared yet
            return 0


class QueueDepth:
    """Ready (undelivered) messages of one queue, asked with a passive declare on one connection."""

    def __init__(self, broker: str, queue: str) -> None:
        from kombu import Connection

        self.queue = queue
        self.conn = Connection(broker, connect_timeout=3)
        self.channel = self.conn.channel()

    def ready(self) -> int:
        try:
            return int(self.channel.queue_declare(queue=self.queue, passive=True).message_count)
        except Exception:
            self.channel = self.conn.channel()
            return -1

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.release()


def delete_queue(broker: str, queue: str) -> None:
    from kombu import Connection

    with contextlib.suppress(Exception), Connection(broker, connect_timeout=3) as conn:
        conn.default_channel.queue_delete(queue)


# -- workers --------------------------------------------------------------------------------------


def write_config(path: Path, db: str, prefix: str) -> None:
    path.write_text(
        f"""database: "{db}"
log: {{level: info, format: json}}
scale:
  broker: env:{BROKER_ENV}
  queue_prefix: {prefix}
  sweep_deadline: 2h
sources:
  - name: org
    provider: aws
    organization: true
    role_name: OrganizationAccountAccessRole
    regions: [{", ".join(REGIONS)}]
    services: [{", ".join(SERVICES)}]
    schedule: {{interval: 24h}}
"""
    )


def cpu_s(pid: int) -> float:
    """utime + stime + cutime + cstime of ``pid`` (its reaped children included), seconds."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return 0.0


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    rss_ready_mb: float = 0.0

    def metrics(self) -> str:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=10).text
        return ""


def metric_sum(text: str, name: str) -> dict[str, float]:
    """{labels: value} of one metric family's samples."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith(f"{name}_created"):
            key, _, value = line.rpartition(" ")
            labels = key[len(name) :]
            if labels == "" or labels.startswith("{"):
                out[labels] = out.get(labels, 0.0) + float(value)
    return out


def cli_argv(commit: str | None) -> list[str]:
    """The `posture-agent` command: the installed script for the working tree; for an exported commit,
    that commit's own entry point (its pyproject's [project.scripts]) called the way the script calls
    it, since the installed script follows whatever the work tree's pyproject says now."""
    if commit is None:
        return [str(BIN / "posture-agent")]
    import tomllib

    pyproject = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:pyproject.toml"], capture_output=True, text=True, check=True
    ).stdout
    module, _, func = tomllib.loads(pyproject)["project"]["scripts"]["posture-agent"].partition(":")
    code = f"import sys; from {module} import {func} as cli; sys.argv[0] = 'posture-agent'; sys.exit(cli())"
    return [sys.executable, "-c", code]


def start_workers(k: int, config: Path, env: dict[str, str], logs: Path, cli: list[str]) -> list[Worker]:
    workers = []
    for i in range(k):
        port = free_port()
        log = logs / f"worker-{i}.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [*cli, "run", "--role", "worker", "--config", str(config)] + ["--listen", f"127.0.0.1:{port}"],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=logs,  # not the work tree: `python -m` (the collection's child) puts the cwd first
            )
        workers.append(Worker(proc, port, log))
    return workers


def stop_workers(workers: list[Worker]) -> list[int | None]:
    for w in workers:
        if w.proc.poll() is None:
            w.proc.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    for w in workers:
        try:
            codes.append(w.proc.wait(timeout=60))
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()
            codes.append(None)  # did not stop on SIGTERM
    return codes


# -- one sweep ------------------------------------------------------------------------------------


@dataclass
class Sweep:
    workers: int
    rep: int
    sweep: int  # 1: into an empty store; 2..: the unchanged organisation again
    accounts: int
    wall_s: float = 0.0
    publish_s: float = 0.0
    recorded: int = 0
    peak_rss_mb: list[float] = field(default_factory=list)  # per worker tree
    worker_rss_after_mb: list[float] = field(default_factory=list)  # each worker process alone, after
    worker_rss_ready_mb: list[float] = field(default_factory=list)
    store_s: list[float] = field(default_factory=list)  # timings.store of each run, by finish time
    collect_s: list[float] = field(default_factory=list)
    total_s: list[float] = field(default_factory=list)
    lock_share: float = 0.0
    lock_waiters: float = 0.0
    worker_cpu_s: float = 0.0
    moto_cpu_s: float = 0.0
    requests: int = 0
    requests_5xx: int = 0
    runs_per_account: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, float] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)
    started: float = 0.0  # wall clock (time.time()) of the sweep() call
    queue_empty: float = 0.0  # wall clock of the first sample with no ready task in the queue
    idle_gaps_s: list[float] = field(default_factory=list)  # a worker's waits for its next task, tasks ready
    note: str = ""


def _q(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p * (len(s) - 1))))]


def scheduler_for(config: Path, broker: str) -> Any:
    from agent.config import load_config
    from agent.cycle import Pipeline
    from agent.scale.scheduler import SweepScheduler
    from agent.store import Store

    cfg = load_config(config)
    pipeline = Pipeline(cfg, Store(cfg.database))
    sched = SweepScheduler(cfg, pipeline, broker, listen=("127.0.0.1", free_port()))
    if not sched.leading():
        raise SystemExit("the in-process scheduler could not take the lead in the benchmark's own database")
    return sched


def sweep_once(
    sched: Any, workers: list[Worker], db: sa.Engine, moto: Moto, queue: Any, expected: int, timeout: float, out: Sweep
) -> str:
    moto_cpu0 = cpu_s(moto.proc.pid)
    req0, err0 = moto.requests()
    cpu0 = sum(cpu_s(w.proc.pid) for w in workers)
    peaks = [0.0] * len(workers)
    granted = waiting = samples = 0
    out.load = (os.getloadavg()[0], 0.0)
    count = sa.text("SELECT count(*) FROM sweep_accounts WHERE sweep_id = :s AND run_id IS NOT NULL")
    locks = sa.text(
        "SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted) FROM pg_locks "
        "WHERE locktype = 'advisory' AND objid = :k AND objsubid = 1 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with db.connect() as conn:
        t0 = time.monotonic()
        out.started = time.time()
        sweep_id = sched.sweep(sched.config.sources[0])
        out.publish_s = time.monotonic() - t0
        recorded = 0
        while True:
            tick = time.monotonic()
            for i, w in enumerate(workers):
                peaks[i] = max(peaks[i], sum(_rss_kb(p) for p in _tree(w.proc.pid)) / 1024)
            g, n = conn.execute(locks, {"k": CHAIN_LOCK}).one()
            granted += 1 if g else 0
            waiting += n
            samples += 1
            recorded = int(conn.execute(count, {"s": sweep_id}).scalar_one())
            if not out.queue_empty and queue.ready() == 0:
                out.queue_empty = time.time()
            if recorded >= expected:
                break
            if tick - t0 > timeout:
                out.note = f"stopped waiting after {timeout:.0f} s"
                break
            if any(w.proc.poll() is not None for w in workers):
                out.note = "a worker exited"
                break
            time.sleep(max(0.0, TICK - (time.monotonic() - tick)))
        out.wall_s = time.monotonic() - t0
    out.recorded = recorded
    out.peak_rss_mb = peaks
    out.lock_share = granted / max(samples, 1)
    out.lock_waiters = waiting / max(samples, 1)
    out.worker_cpu_s = sum(cpu_s(w.proc.pid) for w in workers) - cpu0
    out.moto_cpu_s = cpu_s(moto.proc.pid) - moto_cpu0
    req1, err1 = moto.requests()
    out.requests, out.requests_5xx = req1 - req0, err1 - err0
    out.load = (out.load[0], os.getloadavg()[0])
    return sweep_id


def read_logs(workers: list[Worker]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """run id -> its "collection finished" line; and the error lines (level error/critical)."""
    runs: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for w in workers:
        for raw in w.log.read_text(errors="replace").splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                if "Traceback" in raw:
                    errors.append(raw[:300])
                continue
            if not isinstance(line, dict):
                continue
            if line.get("event") == "collection finished" and line.get("run"):
                runs[str(line["run"])] = line
            if line.get("level") in ("error", "critical"):
                errors.append(json.dumps(line)[:400])
    return runs, errors


def idle_gaps(workers: list[Worker], start: float, until: float) -> list[float]:
    """The waits of idle workers while the queue still had ready tasks: each time a worker finished a
    task before ``until`` (the first moment the queue was seen empty) and received its next one more
    than 0.5 s later, the seconds from the one to the other, counted up to ``until``."""
    from datetime import datetime

    gaps = []
    for w in workers:
        done: float | None = None
        for raw in w.log.read_text(errors="replace").splitlines():
            if "posture.collect_account[" not in raw:
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError):
                line = json.loads(raw)
                at = datetime.fromisoformat(str(line["ts"]).replace("Z", "+00:00")).timestamp()
                event = str(line["event"])
                if at < start:
                    continue
                if event.endswith(" received"):
                    if done is not None and min(at, until) - done > 0.5:
                        gaps.append(min(at, until) - done)
                    done = None
                elif " succeeded in " in event and at < until:
                    done = at
        if done is not None and until - done > 0.5:  # never received another task of the sweep
            gaps.append(until - done)
    return gaps


def fill_from_store(db: sa.Engine, sweep_id: str, logs: dict[str, dict[str, Any]], out: Sweep) -> None:
    with db.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT sa.account, r.id, r.status, r.finished_at FROM sweep_accounts sa "
                "LEFT JOIN runs r ON r.id = sa.run_id WHERE sa.sweep_id = :s ORDER BY r.finished_at"
            ),
            {"s": sweep_id},
        ).all()
        # every snapshot of each account since the sweep opened, whichever run wrote it: a second
        # run of an account (a duplicate) would show here
        per_account = conn.execute(
            sa.text(
                "SELECT a.account, count(DISTINCT n.run_id) FROM sweep_accounts a "
                "JOIN sweeps s ON s.id = a.sweep_id "
                "LEFT JOIN snapshots n ON n.account = a.account AND n.run_id IN "
                "(SELECT id FROM runs WHERE started_at >= s.started_at) "
                "WHERE a.sweep_id = :s GROUP BY a.account"
            ),
            {"s": sweep_id},
        ).all()
    runs: dict[str, int] = {}
    for _account, n in per_account:
        runs[str(n)] = runs.get(str(n), 0) + 1
    out.runs_per_account = runs
    statuses: dict[str, int] = {}
    for _account, run_id, status, _finished in rows:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        line = logs.get(str(run_id)) if run_id else None
        if line is None:
            continue
        timings = line.get("timings") or {}
        out.store_s.append(float(timings.get("store", "nan")))
        out.collect_s.append(float(timings.get("collect", "nan")))
        out.total_s.append(float(line.get("seconds", "nan")))
    out.statuses = statuses


def run_once(
    k: int, rep: int, args: argparse.Namespace, db: Database, moto: Moto, env: dict[str, str], expected: int
) -> list[Sweep]:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    schema, url = db.schema()
    work = Path(tempfile.mkdtemp(prefix=f"scale-sweep-{k}w-"))
    config = work / "agent.yaml"
    write_config(config, url, prefix)
    from agent.store import Store

    store = Store(url)
    store.upgrade()
    store.close()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    workers = start_workers(k, config, env, work, args.cli)
    sched = None
    sweeps: list[Sweep] = []
    try:
        deadline = time.monotonic() + 180
        while consumers(args.broker, f"{prefix}.aws") < k:
            if time.monotonic() > deadline or any(w.proc.poll() is not None for w in workers):
                tail = "\n".join(w.log.read_text(errors="replace")[-2000:] for w in workers)
                raise SystemExit(f"the workers did not start consuming:\n{tail}")
            time.sleep(0.25)
        for w in workers:
            w.rss_ready_mb = _rss_kb(w.proc.pid) / 1024
        sched = scheduler_for(config, args.broker)
        queue = QueueDepth(args.broker, f"{prefix}.aws")
        for n in range(1, args.sweeps + 1):
            s = Sweep(k, rep, n, expected)
            s.worker_rss_ready_mb = [w.rss_ready_mb for w in workers]
            sweep_id = sweep_once(sched, workers, engine, moto, queue, expected, args.timeout, s)
            time.sleep(0.5)  # the last run's log line follows its commit
            text = [w.metrics() for w in workers]
            s.outcomes = {}
            for t in text:
                for labels, v in metric_sum(t, "posture_worker_tasks_total").items():
                    s.outcomes[labels] = s.outcomes.get(labels, 0.0) + v
            s.worker_rss_after_mb = [_rss_kb(w.proc.pid) / 1024 for w in workers]
            logs, _ = read_logs(workers)
            fill_from_store(engine, sweep_id, logs, s)
            s.idle_gaps_s = idle_gaps(workers, s.started, s.queue_empty or time.time())
            sweeps.append(s)
            print_sweep(s)
            if s.note:
                break
        queue.close()
    finally:
        if sched is not None:
            sched.stop(grace=1)
            sched.pipeline.store.close()
        codes = stop_workers(workers)
        _, errors = read_logs(workers)
        if sweeps:
            sweeps[
                -1
            ].note += f"{'; ' if sweeps[-1].note else ''}exit codes after SIGTERM {codes}; {len(errors)} error lines"
            if errors:
                print("    error lines in the workers' logs (first 5):\n      " + "\n      ".join(errors[:5]))
        engine.dispose()
        db.drop_schema(schema)
        delete_queue(args.broker, f"{prefix}.aws")
        if not args.keep_logs:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"    logs kept in {work}")
    return sweeps


def print_sweep(s: Sweep) -> None:
    n = s.recorded
    print(
        f"  {s.workers} worker(s) run {s.rep + 1} sweep {s.sweep}: {s.wall_s:6.1f} s for {n}/{s.accounts} accounts "
        f"({60 * n / s.wall_s:5.1f}/min; publish {s.publish_s:.1f} s)  peak RSS/worker "
        f"{max(s.peak_rss_mb):.0f} MB  store med {_q(s.store_s, 0.5):.3f} p95 {_q(s.store_s, 0.95):.3f} s  "
        f"lock held {100 * s.lock_share:.0f}% (waiting {s.lock_waiters:.1f})  worker CPU "
        f"{s.worker_cpu_s / max(n, 1):.2f} s/acct  moto CPU {s.moto_cpu_s:.0f} s  {s.requests} requests "
        f"({s.requests_5xx} 5xx)  load {s.load[0]:.1f}->{s.load[1]:.1f}  runs/account {s.runs_per_account} "
        f"statuses {s.statuses} outcomes {s.outcomes} idle with tasks ready: {len(s.idle_gaps_s)} waits, "
        f"{sum(s.idle_gaps_s):.1f} s (longest {max(s.idle_gaps_s, default=0):.1f} s) {s.note}",
        flush=True,
    )


# -- summary ----------------------------------------------------------------------------------------


def table(sweeps: list[Sweep]) -> str:
    lines = [
        "| sweep | workers | runs | wall s min / median | accounts/min (median) | speed-up (median) "
        "| peak RSS per worker MB (max) | store s/account median / p95 | store median first / last fifth "
        "| chain lock held (median) | lock-held s/account | worker CPU s/account | moto requests (median) "
        "| idle waits with tasks ready: count, s (median) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sorted({s.sweep for s in sweeps}):
        mine = [s for s in sweeps if s.sweep == n and not s.note.startswith(("stopped", "a worker"))]
        base = [s.wall_s for s in mine if s.workers == 1]
        base_median = statistics.median(base) if base else float("nan")
        for k in sorted({s.workers for s in mine}):
            rs = [s for s in mine if s.workers == k]
            walls = [s.wall_s for s in rs]
            med = statistics.median(walls)
            accounts = rs[0].recorded
            store = [v for s in rs for v in s.store_s]
            fifth = max(1, accounts // 5)
            first = [v for s in rs for v in s.store_s[:fifth]]
            last = [v for s in rs for v in s.store_s[-fifth:]]
            held = statistics.median(s.lock_share * s.wall_s / max(s.recorded, 1) for s in rs)
            lines.append(
                f"| {'1st (empty store)' if n == 1 else f'{n}th (unchanged)' if n > 2 else '2nd (unchanged)'} "
                f"| {k} | {len(rs)} | {min(walls):.1f} / {med:.1f} | {60 * accounts / med:.0f} "
                f"| {base_median / med:.2f}x | {max(max(s.peak_rss_mb) for s in rs):.0f} "
                f"| {_q(store, 0.5):.3f} / {_q(store, 0.95):.3f} | {_q(first, 0.5):.3f} / {_q(last, 0.5):.3f} "
                f"| {100 * statistics.median(s.lock_share for s in rs):.0f}% | {held:.3f} "
                f"| {statistics.median(s.worker_cpu_s / max(s.recorded, 1) for s in rs):.2f} "
                f"| {statistics.median(s.requests for s in rs):.0f} "
                f"| {statistics.median(len(s.idle_gaps_s) for s in rs):.0f}, "
                f"{statistics.median(sum(s.idle_gaps_s) for s in rs):.1f} |"
            )
    return "\n".join(lines)


def git_head() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "agent", "collectors", "checks"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (out.stdout.strip() or "?") + (" (agent/collectors/checks modified)" if dirty else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=200, help="member accounts (the management account is one more)")
    ap.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated (default 1,2,4)")
    ap.add_argument("--runs", type=int, default=2, help="repetitions of every worker count, order alternated")
    ap.add_argument(
        "--sweeps",
        type=int,
        default=1,
        help="sweeps per run with the same workers and store (default 1; 2: steady state)",
    )
    ap.add_argument("--latency-ms", type=float, default=50.0, help="added to every AWS call by the proxy")
    ap.add_argument(
        "--broker", default=os.environ.get("POSTURE_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    )
    ap.add_argument(
        "--pg", default=os.environ.get("POSTURE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds one sweep may take")
    ap.add_argument("--keep-logs", action="store_true", help="keep each run's config and worker logs")
    ap.add_argument("--json", type=Path, help="also write every sweep here")
    ap.add_argument(
        "--agent-ref",
        default="HEAD",
        help="the commit whose agent is measured, exported with git archive (default HEAD: others edit the "
        "working tree meanwhile); 'worktree' runs the working tree as it is",
    )
    ap.add_argument("--serve-proxy", metavar="UPSTREAM", help=argparse.SUPPRESS)
    ap.add_argument("--proxy-port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_proxy:
        serve_proxy(args.serve_proxy, args.latency_ms, args.proxy_port)
        return
    counts = [int(x) for x in args.workers.split(",") if x.strip()]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (database, queues, processes) on kill
    work = Path(tempfile.mkdtemp(prefix="scale-sweep-"))
    if args.agent_ref == "worktree":
        commit = f"working tree of {git_head()}"
    else:  # the workers (PYTHONPATH) and this process's scheduler import the exported commit
        full = export_agent(args.agent_ref, work / "src")
        commit = full[:10]
        sys.path.insert(0, str(work / "src"))
    args.cli = cli_argv(None if args.agent_ref == "worktree" else full)

    moto = Moto.start(work)
    proxy = db = None
    sweeps: list[Sweep] = []
    try:
        t = time.perf_counter()
        accounts = seed(moto.url, args.accounts)
        seeded = time.perf_counter() - t
        proxy = Proxy(moto.url, args.latency_ms, work / "proxy.log")
        db = Database(args.pg)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(CREDS)
        env.update(
            {
                "AWS_ENDPOINT_URL": proxy.url,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                BROKER_ENV: args.broker,
            }
        )
        if args.agent_ref != "worktree":
            env["PYTHONPATH"] = str(work / "src")
        os.environ.clear()
        os.environ.update(env)  # the in-process scheduler lists the organisation through the proxy too
        print(
            f"agent {commit}; moto {moto_version()}; {os.cpu_count()} cores; load {os.getloadavg()}; "
            f"{len(accounts)} accounts ({args.accounts} members + management) seeded in {seeded:.0f} s; "
            f"+{args.latency_ms:.0f} ms per AWS call; services {SERVICES}, regions {REGIONS}; workers {counts}, "
            f"runs {args.runs}, sweeps per run {args.sweeps}; database {db.name}",
            flush=True,
        )
        for rep in range(args.runs):
            for k in counts if rep % 2 == 0 else list(reversed(counts)):
                sweeps += run_once(k, rep, args, db, moto, env, len(accounts))
    finally:
        if proxy is not None:
            proxy.stop()
        if db is not None:
            db.drop()
        moto.stop()
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    print("\n" + table(sweeps))
    print(f"\nload average at the end: {os.getloadavg()}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "commit": commit,
                    "moto": moto_version(),
                    "cores": os.cpu_count(),
                    "accounts": args.accounts + 1,
                    "latency_ms": args.latency_ms,
                    "services": SERVICES,
                    "regions": REGIONS,
                    "sweeps": [asdict(s) for s in sweeps],
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()

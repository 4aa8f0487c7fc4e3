"""Evidence store benchmark (issue #13): a year of a synthetic estate written through Store.record_cycle
(the daemon's write path) with signed hourly checkpoints and their witnesses, the bytes an unchanged
cycle adds, then the year's bundle exported and verified the way an auditor and an operator run the
verifiers: `python -m posture_verify` and `posture-agent evidence verify`, each as its own process.

    .venv/bin/python bench/evidence.py --db sqlite:////tmp/bench-year.db
    .venv/bin/python bench/evidence.py --db sqlite:////tmp/bench-year.db --measure-only --runs 3
    .venv/bin/python bench/evidence.py --db postgresql+psycopg://postgres@127.0.0.1:5432/posture_bench \\
        --cycles 40 --unchanged-sample 400 --no-measure
    .venv/bin/python bench/evidence.py --db sqlite:////tmp/bench-tick.db --tick --cycles 400 --no-measure

Each cycle every resource has a finding (``--tick``: and an observation that moves every cycle, left
out of the stored bodies: the bytes per unchanged cycle then show that polling does not grow the
store); ``--change-per-day`` of the resources change per day (spread
over the day's cycles), a tenth of those flip their finding. Every fourth cycle (hourly) a checkpoint
is written, signed (``--no-sign`` to leave it unsigned), and witnessed right away as the daemon does:

- ``tsa``: an RFC 3161 token from OpenSSL's TSA on loopback (posture_demo.tsa.LocalTsa). Its clock is
  set to the checkpoint's time with libfaketime (Debian's ``faketime``), because a year of history is
  written in half an hour: the tokens are OpenSSL's, in the shape the daemon stores, with a genTime
  within milliseconds of their checkpoint.
- ``s3``: a copy in an Object Lock bucket in moto (in this process). moto's clock cannot be set back,
  so the copies carry today's Last-Modified: they count in the store's bytes and the bundle, but the
  timed verifications do not check the bucket (``--anchor-bucket`` would call them backdated).

State that a later ``--measure-only`` run needs (signing key, the TSA's CA, certificate and key) is kept
in ``--state`` (default /tmp/posture-bench/<database name>). A PostgreSQL database is created when
missing (trust auth on 127.0.0.1). Never point --db at a store that matters.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import posture_verify
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from posture_demo.tsa import _CONFIG, DEMO_POLICY, LocalTsa, make_tsa_certs
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agent.config import AnchorsConfig
from agent.evidence.anchoring import Anchorer
from agent.evidence.checkpoints import Signer, checkpoint_now, public_pem
from agent.evidence.export import export_bundle
from agent.evidence.store_records import load_store_records
from agent.mappings import load_mappings
from agent.models import Finding, Resource, Severity, Snapshot, Status, finding_uid, new_run_id
from agent.store import RunRecord, Store

ROOT = Path(__file__).resolve().parent.parent
CHECK = "aws.s3.bucket_default_encryption"
STEP = timedelta(minutes=15)
CADENCE_S = 3600
FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def resource(i: int, version: int, ok: bool, seen: datetime | None = None) -> Resource:
    """``seen``: an observation that ticks every cycle, as a real estate's check-in and delivery times
    do (``--tick``); left out of the stored body like any declared observation."""
    attrs: dict[str, Any] = {"Encrypted": ok, "Version": version, "Tags": {"team": f"t{i % 17}"}}
    if seen is not None:
        attrs["LastSeen"] = seen.isoformat()
    return Resource(
        provider="aws",
        account="111122223333",
        region="us-east-1",
        type="aws.s3.bucket",
        id=f"arn:aws:s3:::bucket-{i:06d}",
        name=f"bucket-{i:06d}",
        attributes=attrs,
        observations=("LastSeen",) if seen is not None else (),
    )


def finding(r: Resource, at: datetime) -> Finding:
    ok = bool(r.attributes["Encrypted"])
    return Finding(
        uid=finding_uid(CHECK, r.id),
        check_id=CHECK,
        resource_id=r.id,
        resource_type=r.type,
        provider="aws",
        account=r.account,
        region=r.region,
        status=Status.PASS if ok else Status.FAIL,
        severity=Severity.HIGH,
        message="encrypted" if ok else "not encrypted",
        requirements=(),
        evaluated_at=at,
        source="prod",
    )


def default_start(cycles: int, sample: int) -> datetime:
    """Midnight UTC such that the history and the unchanged sample end a day before now: the TSA's
    certificates are valid from 400 days before they are made, and no checkpoint is in the future."""
    span = (cycles + sample) * STEP + timedelta(days=1)
    start = datetime.now(UTC) - span
    return start.replace(hour=0, minute=0, second=0, microsecond=0)


# -- the witnesses ----------------------------------------------------------------------------------


class BenchTsa(LocalTsa):
    """OpenSSL's TSA (posture_demo.tsa.LocalTsa) kept in ``home`` across runs, its clock set per token:
    ``clock`` (None: the real time) is the time `openssl ts -reply` sees, through libfaketime."""

    def __init__(self, home: Path, name: str = "posture-agent bench TSA") -> None:  # noqa: D107
        if not FAKETIME_LIB.exists():
            raise SystemExit(f"{FAKETIME_LIB} is missing: apt-get install faketime")
        home.mkdir(parents=True, exist_ok=True)
        if not (home / "tsa.key").exists():
            ca, tsa, key = make_tsa_certs(name)
            (home / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
            (home / "tsa.pem").write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
            (home / "tsa.key").write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
            (home / "tsa.key").chmod(0o600)
            (home / "serial").write_text("01\n")
            (home / "tsa.cnf").write_text(_CONFIG.format(dir=home, policy=DEMO_POLICY))
        self.name, self.policy, self.down, self.requests = name, DEMO_POLICY, False, 0
        self._dir = home
        self.ca_pem, self.cert_pem = (home / "ca.pem").read_bytes(), (home / "tsa.pem").read_bytes()
        self._lock = threading.Lock()
        self._server = None
        self._thread = None
        self.clock: datetime | None = None

    def reply(self, query: bytes) -> bytes:
        env = dict(os.environ)
        if self.clock is not None:
            env.update(
                LD_PRELOAD=str(FAKETIME_LIB),
                FAKETIME="@" + self.clock.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                FAKETIME_DONT_RESET="1",
                TZ="UTC",
            )
        with self._lock, tempfile.TemporaryDirectory(dir=self._dir) as tmp:
            q, r = Path(tmp) / "req.tsq", Path(tmp) / "resp.tsr"
            q.write_bytes(query)
            done = subprocess.run(
                [
                    "openssl",
                    "ts",
                    "-reply",
                    "-config",
                    str(self._dir / "tsa.cnf"),
                    "-queryfile",
                    str(q),
                    "-out",
                    str(r),
                ],
                capture_output=True,
                timeout=30,
                check=False,
                env=env,
            )
            if done.returncode != 0 or not r.exists():
                raise ValueError(done.stderr.decode(errors="replace").strip() or "openssl ts -reply failed")
            self.requests += 1
            return r.read_bytes()

    def stop(self) -> None:  # keeps ``home``: a --measure-only run signs the manifest with the same TSA
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class Witnesses:
    """The witnesses a bench run writes (``kinds``: tsa, s3), as the daemon's anchoring job does."""

    def __init__(self, state: Path, kinds: set[str]) -> None:
        self.kinds = kinds
        self.tsa: BenchTsa | None = BenchTsa(state / "tsa").start() if "tsa" in kinds else None
        self.moto: Any = None
        cfg: dict[str, Any] = {}
        if self.tsa is not None:
            cfg["tsa"] = [{"url": self.tsa.url}]
        if "s3" in kinds:
            import boto3
            from moto.server import ThreadedMotoServer

            os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
            self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self.moto.start()
            host, port = self.moto.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            boto3.client("s3", endpoint_url=endpoint).create_bucket(
                Bucket="bench-anchors", ObjectLockEnabledForBucket=True
            )
            cfg["s3"] = {"bucket": "bench-anchors", "endpoint_url": endpoint, "retain_days": 800}
        self.config = AnchorsConfig.model_validate(cfg) if cfg else None
        self.anchorer: Anchorer | None = None

    def attach(self, store: Store) -> None:
        if self.config is not None:
            self.anchorer = Anchorer(store, self.config)

    def anchor(self, at: datetime) -> None:
        """Witness the checkpoint just written at ``at``, as the daemon's job does right after it."""
        if self.anchorer is None:
            return
        if self.tsa is not None:
            self.tsa.clock = at
        result = self.anchorer.run(now=at)
        if result.failed:
            raise SystemExit(f"anchoring failed at {at}: {result}")

    def real_time(self) -> None:
        if self.tsa is not None:
            self.tsa.clock = None

    def close(self) -> None:
        if self.anchorer is not None:
            self.anchorer.close()
        if self.tsa is not None:
            self.tsa.stop()
        if self.moto is not None:
            self.moto.stop()


# -- the store ---------------------------------------------------------------------------------------


def state_dir(db: str, given: str | None) -> Path:
    if given:
        return Path(given)
    name = Path(make_url(db).database or "memory").name
    return Path("/tmp/posture-bench") / name


def ensure_database(db: str) -> None:
    """A PostgreSQL database named by ``db`` is created when missing (through the server's ``postgres`` db)."""
    url = make_url(db)
    if url.get_backend_name() != "postgresql" or not url.database:
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).scalar():
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def signer_in(state: Path, sign: bool) -> Signer | None:
    if not sign:
        return None
    pem = state / "signing.pem"
    if not pem.exists():
        state.mkdir(parents=True, exist_ok=True)
        pem.write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        pem.chmod(0o600)
    signer = Signer(pem.read_bytes())
    (state / "signing-public.pem").write_bytes(public_pem(signer.public))
    return signer


def logical_size(store: Store) -> int:
    if store.dialect == "sqlite":
        raw = store.engine.raw_connection()  # outside BEGIN IMMEDIATE: a checkpoint needs no transaction
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = cur.execute("PRAGMA page_count").fetchone()[0]
            page = cur.execute("PRAGMA page_size").fetchone()[0]
            return int(pages) * int(page)
        finally:
            raw.close()
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)


def payload_by_relation(store: Store) -> dict[str, int]:
    """Bytes of row data per table and index: SQLite's dbstat payload, or PostgreSQL relation sizes
    (page-granular, so sample enough cycles; the free-space and visibility maps are left out)."""
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            rows = conn.execute(text("SELECT name, SUM(payload) FROM dbstat GROUP BY name"))
        else:
            rows = conn.execute(
                text(
                    "SELECT c.relname, pg_relation_size(c.oid) + COALESCE(pg_total_relation_size(c.reltoastrelid), 0) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i')"
                )
            )
        return {str(name): int(size or 0) for name, size in rows}


class Writer:
    """The estate and the daemon's cycle: record_cycle, then every fourth cycle a signed checkpoint and
    its witnesses."""

    def __init__(
        self,
        store: Store,
        resources: int,
        change_per_day: float,
        signer: Signer | None,
        witnesses: Witnesses,
        start: datetime,
        tick: bool = False,
    ) -> None:
        self.store, self.signer, self.witnesses, self.start = store, signer, witnesses, start
        self.tick = tick  # every resource's observation moves each cycle: every body is built and hashed again
        self.rng = random.Random(7)
        self.versions = [0] * resources
        self.oks = [True] * resources
        self.resources = [resource(i, 0, True) for i in range(resources)]  # reused while unchanged
        self.findings = [finding(r, start) for r in self.resources]
        self.per_cycle = resources * change_per_day / 96

    def change(self, at: datetime) -> None:
        for _ in range(int(self.per_cycle) + (1 if self.rng.random() < self.per_cycle % 1 else 0)):
            i = self.rng.randrange(len(self.resources))
            self.versions[i] += 1
            if self.rng.random() < 0.1:
                self.oks[i] = not self.oks[i]
            self.resources[i] = resource(i, self.versions[i], self.oks[i])
            self.findings[i] = finding(self.resources[i], at)

    def cycle(self, c: int) -> float:
        """Cycle number ``c`` (its time is start + c steps); returns the milliseconds record_cycle took."""
        at = self.start + c * STEP
        if self.tick:
            self.resources = [resource(i, self.versions[i], self.oks[i], at) for i in range(len(self.resources))]
        snap = Snapshot(
            source="prod",
            provider="aws",
            account="111122223333",
            started_at=at,
            finished_at=at,
            resources=tuple(self.resources),
            errors=(),
        )
        run = RunRecord(
            id=new_run_id(at), source="prod", provider="aws", started_at=at, finished_at=at, status="complete"
        )
        t0 = time.perf_counter()
        self.store.record_cycle(run, [(snap, self.findings)])
        ms = (time.perf_counter() - t0) * 1000
        if c % 4 == 3:  # hourly, as the daemon does, and witnessed right after
            self.checkpoint(at)
        return ms

    def checkpoint(self, at: datetime) -> None:
        checkpoint_now(self.store, at, self.signer, cadence_s=CADENCE_S)
        self.witnesses.anchor(at)


# -- measuring -----------------------------------------------------------------------------------------


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    return time.perf_counter() - t0, done.returncode, (done.stdout + done.stderr).strip()


def verifier_commands(
    bundle: Path, state: Path, verifier_python: str | None, tsa: bool
) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The two verifiers as processes: the auditor's `python -m posture_verify` (in its own environment
    when ``verifier_python`` names one; else this venv's Python with only deploy/verifier on its path)
    and the operator's `posture-agent evidence verify`."""
    trust = ["--public-key", str(state / "signing-public.pem")] if (state / "signing-public.pem").exists() else []
    if tsa:
        trust += ["--tsa-cert", str(state / "tsa" / "ca.pem")]
    env = dict(os.environ)  # the agent as installed here (PYTHONPATH, if set, picks another checkout)
    standalone_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if verifier_python is None:
        verifier_python = sys.executable
        standalone_env["PYTHONPATH"] = str(Path(posture_verify.__file__).resolve().parent.parent)
    agent = str(Path(sys.executable).parent / "posture-agent")
    cmds = {
        "posture_verify": ([verifier_python, "-m", "posture_verify", str(bundle), *trust], standalone_env),
        "posture-agent evidence verify": ([agent, "evidence", "verify", str(bundle), *trust], env),
    }
    if shutil.which("unzip") and shutil.which("sha256sum"):
        # the independent floor: Info-ZIP inflating every member and coreutils hashing the bytes, the least
        # any verifier of a bundle's manifest must do (without parsing, chains, signatures or witnesses)
        cmds["floor: unzip -p | sha256sum"] = (["sh", "-c", f"unzip -p '{bundle}' | sha256sum"], env)
    return cmds


def measure_period(
    store: Store,
    start: datetime,
    end: datetime,
    state: Path,
    signer: Signer | None,
    witnesses: Witnesses,
    runs: int,
    verifier_python: str | None,
    keep: Path | None,
) -> None:
    """Export the period, then verify the bundle with both verifiers alternately (``runs`` each, min and
    median), and the store in-process; each line printed when done."""
    witnesses.real_time()  # the manifest is timestamped now
    tmp = Path(tempfile.mkdtemp(prefix="posture-bench-"))
    try:
        out = keep or tmp / "bundle.zip"
        t = time.perf_counter()
        export_bundle(
            store,
            load_mappings(),
            framework="soc2",
            start=start,
            end=end,
            out=out,
            signer=signer,
            anchors=witnesses.config,
        )
        print(f"export={time.perf_counter() - t:.1f}s bundle={out.stat().st_size / 1e6:.1f} MB ({out})", flush=True)
        cmds = verifier_commands(out, state, verifier_python, witnesses.tsa is not None)
        times: dict[str, list[float]] = {name: [] for name in cmds}
        for r in range(runs):
            order = list(cmds) if r % 2 == 0 else list(reversed(cmds))  # alternate who goes first
            for name in order:
                cmd, env = cmds[name]
                secs, rc, output = timed(cmd, env)
                times[name].append(secs)
                last = next((x for x in output.splitlines() if x.startswith(("OK", "FAILED"))), output[-160:].strip())
                print(f"  run {r + 1} {name}: {secs:.1f}s exit {rc}: {last[:160]}", flush=True)
                if rc != 0:
                    print(output[-3000:], flush=True)
        print("  command lines: " + " | ".join(" ".join(c) for c, _ in cmds.values()), flush=True)
        for name, ts in times.items():
            print(
                f"verify bundle [{name}]: min {min(ts):.1f}s median {statistics.median(ts):.1f}s "
                f"(runs: {', '.join(f'{x:.1f}' for x in ts)})",
                flush=True,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    from posture_verify.chain import verify_records
    from posture_verify.trust import build_trust

    trust = build_trust(
        public_keys=[state / "signing-public.pem"] if signer else [],
        tsa_certs=[state / "tsa" / "ca.pem"] if witnesses.tsa is not None else [],
    )
    t = time.perf_counter()
    sreport = verify_records(load_store_records(store, now=end), trust=trust)
    print(
        f"verify store (in-process, load + verify)={time.perf_counter() - t:.1f}s ok={sreport.ok} "
        f"{'; '.join(str(i) for i in sreport.issues[:3])}",
        flush=True,
    )


def bytes_per_cycle(store: Store, label: str, write: Callable[[int], float], first: int, sample: int) -> None:
    before = payload_by_relation(store)
    ms = [write(first + k) for k in range(sample)]
    after = payload_by_relation(store)
    grown = {k: (v - before.get(k, 0)) / sample for k, v in after.items() if v != before.get(k, 0)}
    print(
        f"db={store.dialect} {label}: bytes per unchanged cycle={sum(grown.values()):.0f} over {sample} cycles; "
        f"unchanged cycle write median={statistics.median(ms):.1f} ms",
        flush=True,
    )
    print(
        "  by table/index: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(grown.items(), key=lambda x: -x[1])),
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--resources", type=int, default=10_000)
    ap.add_argument("--cycles", type=int, default=35_040)
    ap.add_argument("--change-per-day", type=float, default=0.01)
    ap.add_argument("--unchanged-sample", type=int, default=100)
    ap.add_argument("--witnesses", default="tsa,s3", help="comma-separated: tsa, s3, or none (default tsa,s3)")
    ap.add_argument("--no-sign", action="store_true", help="unsigned checkpoints")
    ap.add_argument("--state", help="where the signing key and the TSA are kept (default /tmp/posture-bench/<db>)")
    ap.add_argument("--runs", type=int, default=3, help="verifications of the bundle per verifier")
    ap.add_argument("--verifier-python", help="the Python of an environment with only posture-verify installed")
    ap.add_argument("--keep-bundle", type=Path, help="write the bundle here and keep it")
    ap.add_argument(
        "--measure-only", action="store_true", help="skip writing: export and verify what --db already holds"
    )
    ap.add_argument("--no-measure", action="store_true", help="write and count bytes only")
    ap.add_argument(
        "--tick",
        action="store_true",
        help="every resource's observation (LastSeen) moves every cycle, as a real estate's do",
    )
    args = ap.parse_args()
    kinds = {k for k in args.witnesses.split(",") if k and k != "none"}
    state = state_dir(args.db, args.state)
    state.mkdir(parents=True, exist_ok=True)
    ensure_database(args.db)
    store = Store(args.db)
    store.upgrade()
    signer = signer_in(state, not args.no_sign)
    witnesses = Witnesses(state, kinds)
    witnesses.attach(store)
    try:
        if args.measure_only:
            with store.engine.connect() as conn:
                first, last = conn.execute(text("SELECT min(started_at), max(finished_at) FROM snapshots")).one()
            start, end = (datetime.fromisoformat(str(x)).replace(tzinfo=UTC) for x in (first, last))
            measure_period(
                store, start, end + STEP, state, signer, witnesses, args.runs, args.verifier_python, args.keep_bundle
            )
            return
        start = default_start(args.cycles, args.unchanged_sample)
        writer = Writer(store, args.resources, args.change_per_day, signer, witnesses, start, tick=args.tick)
        t_write = time.perf_counter()
        for c in range(args.cycles):
            writer.change(start + c * STEP)
            writer.cycle(c)
            if c % 1000 == 0:
                print(f"cycle {c}: {time.perf_counter() - t_write:.0f}s", flush=True)
        write_s = time.perf_counter() - t_write
        print(
            f"db={store.dialect} resources={args.resources} cycles={args.cycles} signed={signer is not None} "
            f"witnesses={','.join(sorted(kinds)) or 'none'} write={write_s:.0f}s "
            f"({write_s / max(1, args.cycles) * 1000:.0f} ms/cycle) store size={logical_size(store) / 1e6:.1f} MB",
            flush=True,
        )
        # the same estate again: what an unchanged cycle adds, with its share of a checkpoint and its witnesses
        bytes_per_cycle(
            store,
            f"signed={signer is not None} witnesses={','.join(sorted(kinds)) or 'none'}",
            writer.cycle,
            args.cycles,
            args.unchanged_sample,
        )
        end = start + (args.cycles + args.unchanged_sample) * STEP
        writer.checkpoint(end)  # the daemon's next hourly checkpoint, after the period's end
        print(f"store size={logical_size(store) / 1e6:.1f} MB", flush=True)
        if not args.no_measure:
            measure_period(
                store, start, end, state, signer, witnesses, args.runs, args.verifier_python, args.keep_bundle
            )
    finally:
        witnesses.close()
        store.close()


if __name__ == "__main__":
    main()

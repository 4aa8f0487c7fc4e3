"""Web console benchmark (issue #20): every page's server time on the year store of bench/evidence.py.

    .venv/bin/python bench/console_pages.py --db sqlite:////tmp/bench-console-year.db
    .venv/bin/python bench/console_pages.py --db sqlite:////tmp/bench-console-small.db --cycles 2000 --runs 3
    .venv/bin/python bench/console_pages.py --db postgresql+psycopg://postgres@127.0.0.1:5432/posture_bench_console \\
        --drop-after

The store is built by bench/evidence.py's Writer (10,000 resources, 1% changing a day, 15-minute
cycles for a year, hourly signed checkpoints) with two differences the console needs:

- each cycle is stored by the daemon's pipeline (``Pipeline.record``: the snapshot, its finding
  events and, in the same transaction, its drift events and their chain entry), where
  bench/evidence.py calls ``Store.record_cycle``, which stores no drift: the drift pages would be
  empty. Requirement drift is off (it evaluates every finding per cycle), as on a scaled worker;
- one resource (``bucket-000000``) changes every ``--hot-every`` cycles (default 4, hourly): the
  resource with a long drift history (8,760 changes and 876 transitions a year).

No witnesses (the console reads none of their rows). A built store is reused when the parameters
recorded beside it (``<state>/console-build.json``) match; ``--rebuild`` writes it again.

Then the console is served as a user runs it, ``posture-agent console --db URL --listen 127.0.0.1:PORT
--config FILE``, with an operator and two auditors (soc2; one whose period ended before the store's
last cycle, who sees the state replayed at its end, and one whose period runs), their passwords hashed
with agent/console/passwords.py. Each user signs in over HTTP as a browser does (the CSRF token from the
form and its cookie), then each page is fetched once to warm up and ``--runs`` times timed. The time
is **time to the full response on loopback**, from opening a new connection to reading the body's last
byte (the console sends no Server-Timing header): the server's time plus a loopback connection and
round trip (about 1 ms). On one kept-alive connection (``--keep-alive``) every answer larger than a
redirect took about 40 ms more on this machine, however cheap the page (an interplay of the server's
writes and delayed ACKs, outside the console): a new connection per request, as curl makes, measures
the pages. Auditor pages include the access log's append to the evidence chain. Every GET page route
of agent/console is timed (the bench names any it does not know); the evidence export form (a POST
answering with a bundle download) is not a page: bench/evidence.py times the export.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evidence import (  # noqa: E402
    STEP,
    Witnesses,
    Writer,
    default_start,
    ensure_database,
    finding,
    resource,
    signer_in,
    state_dir,
)
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from agent.config import parse_config  # noqa: E402
from agent.console.passwords import hash_password  # noqa: E402
from agent.cycle import Pipeline  # noqa: E402
from agent.models import Finding, Snapshot  # noqa: E402
from agent.store import RunRecord, SnapshotWrite, Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HOT = 0  # bucket-000000: the resource with a long drift history
HOT_ID = resource(HOT, 0, True).id


# -- the store ---------------------------------------------------------------------------------------


class PipelineStore(Store):
    """A store whose record_cycle is the daemon's: Pipeline.record, the cycle with its drift events."""

    pipeline: Pipeline | None = None

    def record_cycle(
        self, run: RunRecord, results: Sequence[tuple[Snapshot, Sequence[Finding]]]
    ) -> list[SnapshotWrite]:
        assert self.pipeline is not None
        writes, _drift = self.pipeline.record(run, results)
        return writes


class YearWriter(Writer):
    """bench/evidence.py's estate and cycle, plus one resource changing every ``hot_every`` cycles
    (every tenth change flips its finding)."""

    def __init__(self, *args: Any, hot_every: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hot_every = hot_every
        self.hot_changes = 0

    def change(self, at: datetime) -> None:
        super().change(at)
        c = round((at - self.start) / STEP)
        if self.hot_every and c % self.hot_every == 0 and c > 0:
            self.hot_changes += 1
            self.versions[HOT] += 1
            if self.hot_changes % 10 == 0:
                self.oks[HOT] = not self.oks[HOT]
            self.resources[HOT] = resource(HOT, self.versions[HOT], self.oks[HOT])
            self.findings[HOT] = finding(self.resources[HOT], at)


def build_params(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "resources": args.resources,
        "cycles": args.cycles,
        "change_per_day": args.change_per_day,
        "hot_every": args.hot_every,
        "writer": "bench/evidence.py Writer + Pipeline.record",
    }


def build(args: argparse.Namespace, state: Path) -> None:
    """Write the year (or ``--cycles``) unless the store already holds this build."""
    marker = state / "console-build.json"
    params = build_params(args)
    if not args.rebuild and marker.exists() and json.loads(marker.read_text()).get("params") == params:
        print(f"reusing the store built {json.loads(marker.read_text())['built']}: {params}", flush=True)
        return
    drop_database(args.db)
    ensure_database(args.db)
    marker.unlink(missing_ok=True)
    store = PipelineStore(args.db)
    store.upgrade()
    store.pipeline = Pipeline(parse_config("{}", env={}), store, requirement_drift=False, posture_metrics=False)
    signer = signer_in(state, True)
    witnesses = Witnesses(state, set())
    start = default_start(args.cycles, 0)
    writer = YearWriter(store, args.resources, args.change_per_day, signer, witnesses, start, hot_every=args.hot_every)
    t0 = time.perf_counter()
    try:
        for c in range(args.cycles):
            writer.change(start + c * STEP)
            writer.cycle(c)
            if c % 1000 == 0:
                print(f"cycle {c}: {time.perf_counter() - t0:.0f}s", flush=True)
        writer.checkpoint(start + args.cycles * STEP)
    finally:
        witnesses.close()
        store.close()
    secs = time.perf_counter() - t0
    print(f"built {args.cycles} cycles in {secs:.0f}s ({secs / max(1, args.cycles) * 1000:.0f} ms/cycle)", flush=True)
    marker.write_text(json.dumps({"params": params, "built": datetime.now(UTC).isoformat(), "seconds": secs}))


def drop_database(db: str) -> None:
    url = make_url(db)
    if url.get_backend_name() == "sqlite":
        if url.database:
            for suffix in ("", "-wal", "-shm"):
                Path(url.database + suffix).unlink(missing_ok=True)
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


# -- the console and a browser -----------------------------------------------------------------------

PASSWORDS = {"olivia": "operator bench pass", "audrey": "auditor bench pass", "ended": "auditor ended pass"}
SECRET_ENV = "POSTURE_CONSOLE_SECRET"


def store_span(db: str) -> tuple[datetime, datetime]:
    """The first snapshot's start and the last one's end."""
    store = Store(db)
    try:
        with store.engine.connect() as conn:
            first, last = conn.execute(text("SELECT min(started_at), max(finished_at) FROM snapshots")).one()
    finally:
        store.close()
    return tuple(  # type: ignore[return-value]
        (x if isinstance(x, datetime) else datetime.fromisoformat(str(x))).astimezone(UTC)
        if getattr(x, "tzinfo", None)
        else datetime.fromisoformat(str(x)).replace(tzinfo=UTC)
        for x in (first, last)
    )


def config_text(db: str, first: datetime, last: datetime) -> str:
    """An operator, an auditor whose period runs (the state now) and one whose period ended two days
    before the store's last cycle (the state replayed at its end), both soc2."""
    hashes = {name: hash_password(pw) for name, pw in PASSWORDS.items()}
    start = first.date()
    return f"""
database: {db}
scope: {{frameworks: [soc2, iso27001]}}
console:
  enabled: true
  secure_cookies: false
  session_secret: env:{SECRET_ENV}
  users:
    - {{name: olivia, role: operator, password_hash: "{hashes["olivia"]}"}}
    - name: audrey
      role: auditor
      password_hash: "{hashes["audrey"]}"
      period: {{from: {start}, to: {datetime.now(UTC).date() + timedelta(days=30)}}}
      frameworks: [soc2]
    - name: ended
      role: auditor
      password_hash: "{hashes["ended"]}"
      period: {{from: {start}, to: {last.date() - timedelta(days=2)}}}
      frameworks: [soc2]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Console:
    """`posture-agent console` as its own process."""

    def __init__(self, db: str, config: Path) -> None:
        self.port = free_port()
        agent = str(Path(sys.executable).parent / "posture-agent")
        env = {**os.environ, SECRET_ENV: "b" * 48}
        cmd = [agent, "console", "--db", db, "--listen", f"127.0.0.1:{self.port}", "--config", str(config)]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        t0 = time.perf_counter()
        line = self.proc.stdout.readline()
        if "console: http://" not in line:
            self.proc.kill()
            raise SystemExit(f"the console did not start: {line}{self.proc.stdout.read()[-3000:]}")
        self.started_s = time.perf_counter() - t0

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Browser:
    """A browser's part: one kept-alive connection, the cookies the console sets."""

    port: int
    keep_alive: bool = False
    cookies: dict[str, str] = field(default_factory=dict)
    conn: http.client.HTTPConnection | None = None

    def get(self, path: str, *, form: dict[str, str] | None = None) -> tuple[int, bytes, float]:
        """(status, body, seconds from opening the connection, or writing the request on a kept-alive
        one, to reading the body's last byte)."""
        if self.conn is not None and not self.keep_alive:
            self.conn.close()
            self.conn = None
        t0 = time.perf_counter()
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.conn.connect()
        headers = {"Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request("POST" if form is not None else "GET", path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        secs = time.perf_counter() - t0
        for raw in resp.headers.get_all("set-cookie") or []:
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if value == "" or "max-age=0" in raw.lower() or "expires=thu, 01 jan 1970" in raw.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        if resp.getheader("connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return resp.status, data, secs

    def sign_in(self, base: str, user: str, password: str) -> None:
        status, page, _ = self.get(f"{base}/login")
        found = re.search(rb'name="csrf" value="([^"]+)"', page)
        if status != 200 or found is None:
            raise SystemExit(f"no sign-in form ({status})")
        token = unescape(found.group(1).decode())
        status, page, _ = self.get(
            f"{base}/login", form={"username": user, "password": password, "csrf": token, "next": f"{base}/"}
        )
        if status != 303:
            raise SystemExit(f"sign-in of {user} refused: {status} {page[:300]!r}")


def console_routes() -> list[str]:
    """The page routes of agent/console (GET), as the bench checks it times each of them."""
    from agent.console.pages import PAGES

    return sorted(PAGES)


def pages_for(role: str, first: datetime, last: datetime, total: int) -> list[tuple[str, str]]:
    """(label, path and query) of every page a user of ``role`` is timed on."""
    from evidence import CHECK

    from agent.mappings import load_mappings

    mappings = load_mappings()
    req = next(r.ref for r in mappings.framework("soc2").requirements if CHECK in mappings.requirement_checks(r))
    end_day = last.date() if role != "auditor (period ended)" else last.date() - timedelta(days=2)
    month = (max(first.date(), end_day - timedelta(days=30)), end_day)
    year = (first.date(), end_day)
    late = max(1, -(-total // 50))
    out = [
        ("/ (redirect)", "/"),
        ("posture soc2", "/posture?framework=soc2"),
    ]
    if role == "operator":
        out.append(("posture iso27001", "/posture?framework=iso27001"))
    out += [
        ("findings", "/findings"),
        ("findings status=fail", "/findings?status=fail"),
        ("findings fail+high+check", "/findings?" + urlencode({"status": "fail", "severity": "high", "check": CHECK})),
        (f"findings requirement={req}", "/findings?" + urlencode({"requirement": req})),
        (f"findings page {late} (last)", f"/findings?page={late}"),
        ("resource: long drift history", "/resource?" + urlencode({"id": HOT_ID})),
        ("resource: ordinary", "/resource?" + urlencode({"id": resource(4242, 0, True).id})),
        ("drift (default: 7 days)", "/drift"),
        ("drift month", "/drift?" + urlencode({"from": month[0], "to": month[1]})),
        ("drift year", "/drift?" + urlencode({"from": year[0], "to": year[1]})),
        ("drift year page 20", "/drift?" + urlencode({"from": year[0], "to": year[1], "page": 20})),
        ("drift year kind=regressed", "/drift?" + urlencode({"from": year[0], "to": year[1], "kind": "regressed"})),
        ("devices", "/devices"),
    ]
    routes = console_routes()
    if "/evidence" in routes:
        out += [
            ("evidence (default period)", "/evidence"),
            ("evidence year", "/evidence?" + urlencode({"framework": "soc2", "from": year[0], "to": year[1]})),
        ]
    if "/coverage" in routes:
        out += [
            ("coverage (default period)", "/coverage"),
            ("coverage year", "/coverage?" + urlencode({"framework": "soc2", "from": year[0], "to": year[1]})),
        ]
    # the posture page's history strip: 14 days by default, at most 92
    quarter = (max(first.date(), end_day - timedelta(days=91)), end_day)
    history = urlencode({"framework": "soc2", "from": quarter[0], "to": quarter[1]})
    out.insert(2, ("posture soc2, 92-day history", "/posture?" + history))
    return out


def measure(db: str, runs: int, work: Path, keep_alive: bool) -> dict[str, dict[str, list[float]]]:
    first, last = store_span(db)
    cfg = work / "console.yaml"
    cfg.write_text(config_text(db, first, last))
    store = Store(db)
    try:
        with store.engine.connect() as conn:
            total = int(conn.execute(text("SELECT count(*) FROM finding_current")).scalar_one())
        t0 = time.perf_counter()
        head = store.upgrade()
        print(f"store at {head} (upgrade {time.perf_counter() - t0:.1f}s)", flush=True)
    finally:
        store.close()
    console = Console(db, cfg)
    print(f"console: {' '.join(console.cmd)} (up in {console.started_s:.1f}s)", flush=True)
    timed = {path for _, path in pages_for("operator", first, last, total)}
    untimed = [r for r in console_routes() if not any(p.split("?")[0] == r for p in timed)]
    if untimed:
        print(f"WARNING: routes of agent/console not timed: {untimed}", flush=True)
    results: dict[str, dict[str, list[float]]] = {}
    try:
        for role, user in (
            ("operator", "olivia"),
            ("auditor (period running)", "audrey"),
            ("auditor (period ended)", "ended"),
        ):
            browser = Browser(console.port, keep_alive)
            browser.sign_in("/console", user, PASSWORDS[user])
            for label, path in pages_for(role, first, last, total):
                times: list[float] = []
                for _ in range(runs + 1):  # the first is a warm-up, left out
                    status, body, secs = browser.get("/console" + path)
                    if status not in (200, 303):
                        raise SystemExit(f"{role} {path}: {status} {body[:400]!r}")
                    times.append(secs)
                results.setdefault(role, {})[label] = times
                print(
                    f"  {role:<26} {label:<40} first {times[0] * 1000:7.1f} ms  "
                    f"min {min(times[1:]) * 1000:7.1f}  median {statistics.median(times[1:]) * 1000:7.1f}  "
                    f"({len(body) // 1024} KB)",
                    flush=True,
                )
    finally:
        console.stop()
    return results


def table(results: dict[str, dict[str, list[float]]]) -> str:
    lines = ["| page | " + " | ".join(f"{role}: min / median ms" for role in results) + " |"]
    lines.append("|---|" + "---|" * len(results))
    labels = list(dict.fromkeys(label for pages in results.values() for label in pages))
    worst = 0.0
    for label in labels:
        cells = []
        for pages in results.values():
            ts = pages.get(label)
            if ts is None:
                cells.append("")
                continue
            rest = ts[1:]
            worst = max(worst, statistics.median(rest))
            cells.append(f"{min(rest) * 1000:.0f} / {statistics.median(rest) * 1000:.0f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append(f"\nslowest median: {worst * 1000:.0f} ms (target < 300 ms)")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite:////tmp/bench-console-year.db")
    ap.add_argument("--resources", type=int, default=10_000)
    ap.add_argument("--cycles", type=int, default=35_040)
    ap.add_argument("--change-per-day", type=float, default=0.01)
    ap.add_argument("--hot-every", type=int, default=4, help="bucket-000000 changes every N cycles (0: never)")
    ap.add_argument("--state", help="signing key and build record (default /tmp/posture-bench/<db>)")
    ap.add_argument("--rebuild", action="store_true", help="write the store again even if it holds this build")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--runs", type=int, default=5, help="timed fetches of each page (after one warm-up)")
    ap.add_argument(
        "--keep-alive",
        action="store_true",
        help="time on one kept-alive connection (default: a new connection per request, as curl does)",
    )
    ap.add_argument("--drop-after", action="store_true", help="drop the store (database or file) when done")
    args = ap.parse_args()
    state = state_dir(args.db, args.state)
    state.mkdir(parents=True, exist_ok=True)
    build(args, state)
    if args.build_only:
        return
    work = Path(tempfile.mkdtemp(prefix="posture-console-bench-"))
    try:
        print(f"uptime: {os.getloadavg()}", flush=True)
        results = measure(args.db, args.runs, work, args.keep_alive)
        print(f"uptime: {os.getloadavg()}", flush=True)
        print(table(results), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.drop_after:
            drop_database(args.db)
            (state / "console-build.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()

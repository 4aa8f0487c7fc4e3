"""Benchmark: /healthz while N connections hold partial requests open (slowloris), and what they cost.

The server runs in a child process (the agent's HTTP port alone: /metrics, /healthz, /readyz), so
its RSS and thread count are its own. For each N, this opens N connections that each send part of
a request head and then nothing (timing how long opening them takes), takes /healthz ``--samples``
times one after the other (a new connection each) while they are held, and reads the server's
VmRSS and Threads from /proc. Then it closes them and waits for the server to settle before the
next N. The last column counts the tracebacks the server wrote to stderr over its whole run.

``--before REV`` runs the same against agent/http.py as it was at REV (the ThreadingHTTPServer the
port had until issue #16), loaded from git into the child.

    .venv/bin/python bench/http_slowloris.py [--held 0,100,300,900] [--samples 50] [--before 5b34938~1]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PARTIAL = b"GET /healthz HTTP/1.1\r\nHost: agent\r\nX-Slow: a"
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n"


def serve(before: str | None) -> None:
    """The child: serve until stdin closes; print the port first."""
    from prometheus_client import CollectorRegistry

    from agent.logs import configure_logging

    configure_logging("info", "json")
    if before:
        source = subprocess.run(
            ["git", "show", f"{before}:agent/http.py"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        path = Path(tempfile.mkdtemp()) / "http_before.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("http_before", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        server_class: Any = module.AgentHTTPServer
    else:
        from agent.http import AgentHTTPServer

        server_class = AgentHTTPServer
    server = server_class("127.0.0.1", 0, CollectorRegistry(), lambda: (True, {}))
    server.start()
    print(server.address[1], flush=True)
    sys.stdin.read()
    server.stop()


def proc_status(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "Threads"):
            values[name] = int(rest.split()[0])
    return values


def healthz(port: int, timeout: float) -> tuple[float, int]:
    """Seconds to a whole answer, and its status (0: no answer)."""
    start = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(HEALTHZ)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    except OSError:
        return time.perf_counter() - start, 0
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else 0
    return time.perf_counter() - start, status


def run(before: str | None, held_counts: list[int], samples: int, timeout: float) -> list[dict[str, Any]]:
    with tempfile.TemporaryFile() as errors:
        return _run(errors, before, held_counts, samples, timeout)


def _run(errors: Any, before: str | None, held_counts: list[int], samples: int, timeout: float) -> list[dict[str, Any]]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", *(["--before", before] if before else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        env={**os.environ, "MALLOC_ARENA_MAX": "2"},  # as the Dockerfile runs the agent
    )
    assert child.stdout is not None and child.stdin is not None
    port = int(child.stdout.readline())
    rows = []
    try:
        for n in held_counts:
            held = []
            opening = time.perf_counter()
            for _ in range(n):
                sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                sock.sendall(PARTIAL)
                held.append(sock)
            opened = time.perf_counter() - opening
            time.sleep(0.5)  # the server has taken them all
            status_held = proc_status(child.pid)
            results = [healthz(port, timeout) for _ in range(samples)]
            ok = [seconds for seconds, status in results if status == 200]
            status_after = proc_status(child.pid)
            rows.append(
                {
                    "held": n,
                    "open_s": opened,
                    "answered": f"{len(ok)}/{samples}",
                    "other": sorted({status for _, status in results if status != 200}),
                    "p50_ms": statistics.median(ok) * 1000 if ok else float("nan"),
                    "max_ms": max(ok) * 1000 if ok else float("nan"),
                    "rss_mb": max(status_held["VmRSS"], status_after["VmRSS"]) / 1024,
                    "threads": max(status_held["Threads"], status_after["Threads"]),
                }
            )
            for sock in held:
                sock.close()
            time.sleep(2.0)  # let the server see them close
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    errors.seek(0)
    stderr = errors.read().decode(errors="replace")
    for row in rows:
        row["tracebacks"] = stderr.count("Traceback")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--held", default="0,100,300,900", help="numbers of held connections, comma-separated")
    ap.add_argument("--samples", type=int, default=50, help="/healthz requests per row")
    ap.add_argument(
        "--timeout", type=float, default=15.0, help="seconds a /healthz may take before it counts as failed"
    )
    ap.add_argument("--before", help="also run agent/http.py as it was at this git revision")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.before)
        return
    held_counts = [int(n) for n in args.held.split(",")]
    runs = [("before", args.before)] if args.before else []
    runs.append(("agent", None))
    print("| server | held | opening them | /healthz answered | p50 | max | server RSS | threads | tracebacks (run) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, rev in runs:
        for row in run(rev, held_counts, args.samples, args.timeout):
            answered = row["answered"] + (f" (else {row['other']})" if row["other"] else "")
            label = name if rev is None else f"{name} ({rev})"
            print(
                f"| {label} | {row['held']} | {row['open_s']:.2f} s | {answered} | "
                f"{row['p50_ms']:.1f} ms | {row['max_ms']:.1f} ms | {row['rss_mb']:.1f} MB | {row['threads']} | "
                f"{row['tracebacks']} |"
            )


if __name__ == "__main__":
    main()

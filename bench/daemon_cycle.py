"""Benchmark: daemon resident memory and per-cycle overhead against the demo cloud.

Targets (issues 3 and 17): under 150 MB RSS in steady state, growing less than 1 MB over 100 cycles;
cycle overhead beyond the API calls (evaluate + store + metrics) under 50 ms.

    .venv/bin/python bench/daemon_cycle.py [--cycles 8] [--soak 90]
    .venv/bin/python bench/daemon_cycle.py --cycles 0 --sources demo --daemon-cycles 100 --runs 3

``--sources aws`` runs the daemon on the demo organisation alone, ``demo`` on every demo source (AWS,
GCP, Entra ID and ARM, Intune, Fleet, SSM). ``--daemon-cycles N`` soaks until the AWS source has
completed N cycles and samples the daemon's RSS after each; ``--set key=value`` adds a top-level
config key (``--set collect_isolation=false``).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from posture_demo.run import DemoCloud, demo_config  # noqa: E402

from agent.cycle import Pipeline  # noqa: E402
from agent.store import Store  # noqa: E402


def _git_head() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "?"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def in_process_cycles(endpoint: str, cycles: int, workdir: Path) -> list[dict[str, float]]:
    db = f"sqlite:///{workdir / 'bench.db'}"
    cfg = demo_config(endpoint, db, "127.0.0.1:0", "30s")
    store = Store(db)
    store.upgrade()
    pipeline = Pipeline(cfg, store)
    rows = []
    for _ in range(cycles):
        res = pipeline.run_cycle(cfg.sources[0])
        rows.append(
            {**res.timings, "resources": sum(len(s.resources) for s in res.snapshots), "findings": len(res.findings)}
        )
    store.close()
    return rows


def tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` and its descendants (a collection's child process included)."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            total += rss_mb(p)
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time of ``pid`` itself and of its children that ended (user + system, /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def _collections(port: int, source: str | None = None) -> float:
    try:
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return 0.0
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("posture_collections_total{") and (source is None or f'source="{source}"' in line)
    )


def daemon_config(endpoint: str, workdir: Path, port: int, sources: str, interval: str, extra: dict[str, Any]) -> Path:
    other = DEMO_OTHER_SOURCES if sources == "demo" else []
    cfg = demo_config(endpoint, f"sqlite:///{workdir / 'daemon.db'}", f"127.0.0.1:{port}", interval, other)
    data = cfg.model_dump(mode="json", exclude_none=True)
    data["log"] = {"level": "warning", "format": "json"}
    data.update(extra)
    cfg_path = workdir / "agent.yaml"
    cfg_path.write_text(yaml.safe_dump(data, sort_keys=False))
    return cfg_path


DEMO_OTHER_SOURCES: list[dict[str, Any]] = []  # DemoCloud.other_sources, set by main()


def daemon_rss(cfg_path: Path, port: int, soak: float, daemon_cycles: int) -> dict[str, Any]:
    """Run `posture-agent run` and sample its RSS every second, for ``soak`` seconds or until the
    AWS source has completed ``daemon_cycles`` cycles (then also the RSS after each of its cycles)."""
    exe = Path(sys.executable).parent / "posture-agent"
    proc = subprocess.Popen([str(exe), "run", "--config", str(cfg_path)], stderr=subprocess.DEVNULL, env={**os.environ})
    samples: list[tuple[float, float]] = []
    tree: list[float] = []
    per_cycle: dict[int, float] = {}  # AWS cycles done -> daemon RSS when first seen done
    t0 = time.monotonic()
    try:
        while True:
            elapsed = time.monotonic() - t0
            if daemon_cycles:
                done = int(_collections(port, "demo-org"))
                if done and done not in per_cycle:
                    per_cycle[done] = rss_mb(proc.pid)
                if done >= daemon_cycles:
                    break
            elif elapsed >= soak:
                break
            if proc.poll() is not None:
                raise RuntimeError(f"the daemon exited with code {proc.returncode}")
            samples.append((elapsed, rss_mb(proc.pid)))
            tree.append(tree_rss_mb(proc.pid))
            time.sleep(1)
        runs = _collections(port)
        cpu_self, cpu_children = cpu_seconds(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        t_stop = time.monotonic()
        code = proc.wait(timeout=15)
        stop_s = time.monotonic() - t_stop
    end = samples[-1][0]
    steady = [mb for t, mb in samples if t >= end / 2]
    return {
        "peak_mb": max(mb for _, mb in samples),
        "tree_peak_mb": max(tree),
        "steady_median_mb": statistics.median(steady),
        "per_cycle": per_cycle,
        "cycles": runs,
        "cpu_self": cpu_self,
        "cpu_children": cpu_children,
        "seconds": end,
        "exit_code": code,
        "stop_seconds": stop_s,
    }


def _at(per_cycle: dict[int, float], n: int) -> float:
    """The RSS after cycle ``n`` (or the first cycle seen after it)."""
    later = [k for k in per_cycle if k >= n]
    return per_cycle[min(later)] if later else float("nan")


def main() -> None:
    import logging

    logging.disable(logging.WARNING)  # the emulator's access log is not the measurement
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=8)
    ap.add_argument("--soak", type=float, default=90.0)
    ap.add_argument("--sources", choices=("aws", "demo"), default="aws", help="the daemon's sources")
    ap.add_argument("--daemon-cycles", type=int, default=0, help="soak until the AWS source ran this many cycles")
    ap.add_argument("--interval", default="10s", help="every source's schedule interval")
    ap.add_argument("--runs", type=int, default=1, help="daemon runs, one after the other")
    ap.add_argument("--port", type=int, default=19464, help="the daemon's port (the next ones for further runs)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=YAML", help="a top-level config key")
    args = ap.parse_args()
    extra = {k: yaml.safe_load(v) for k, _, v in (item.partition("=") for item in args.set)}
    cloud = DemoCloud()
    cloud.start()
    DEMO_OTHER_SOURCES[:] = cloud.other_sources
    daemons = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = in_process_cycles(cloud.endpoint, args.cycles, Path(tmp)) if args.cycles else []
            for i in range(args.runs):
                work = Path(tmp) / f"run{i}"
                work.mkdir()
                port = args.port + i
                cfg_path = daemon_config(cloud.endpoint, work, port, args.sources, args.interval, extra)
                daemons.append(daemon_rss(cfg_path, port, args.soak, args.daemon_cycles))
    finally:
        cloud.stop()
    print(
        f"\ndaemon: sources {args.sources}, interval {args.interval}, config keys {extra or '-'}, git {_git_head()}\n"
    )
    head = (
        "run",
        "AWS cycles",
        "all cycles",
        "s",
        "RSS after 1",
        "after 10",
        "after last",
        "growth 10..last",
        "steady median",
        "peak",
        "peak with children",
        "CPU s: daemon + children",
        "SIGTERM s",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for i, d in enumerate(daemons, 1):
        pc = d["per_cycle"]
        last = max(pc) if pc else 0
        print(
            f"| {i} | {last} | {d['cycles']:.0f} | {d['seconds']:.0f} | {_at(pc, 1):.1f} | {_at(pc, 10):.1f} | "
            f"{_at(pc, last):.1f} | {_at(pc, last) - _at(pc, 10):+.1f} | {d['steady_median_mb']:.1f} | "
            f"{d['peak_mb']:.1f} | {d['tree_peak_mb']:.1f} | {d['cpu_self']:.0f} + {d['cpu_children']:.0f} | "
            f"{d['stop_seconds']:.2f} (exit {d['exit_code']}) |"
        )
    if len(daemons) > 1:
        steady = [d["steady_median_mb"] for d in daemons]
        print(
            f"\nsteady RSS over {len(daemons)} runs: "
            f"min {min(steady):.1f} MB, median {statistics.median(steady):.1f} MB"
        )
    if not rows:
        return
    rss = daemons[0]
    warm = rows[1:] or rows
    med = {k: statistics.median(r[k] for r in warm) for k in ("collect", "evaluate", "store", "total")}
    overhead_ms = (med["evaluate"] + med["store"]) * 1000
    print(
        f"\nposture-agent daemon benchmark (demo cloud: {rows[0]['resources']} resources, "
        f"{rows[0]['findings']} findings per cycle; median of {len(warm)} warm cycles)\n"
    )
    print(f"| {'measure':44} | {'value':>12} | {'target':>10} |")
    print(f"|{'-' * 46}|{'-' * 14}|{'-' * 12}|")
    print(f"| {'collect (API calls to moto), s':44} | {med['collect']:12.3f} | {'':>10} |")
    print(f"| {'evaluate checks, ms':44} | {med['evaluate'] * 1000:12.1f} | {'':>10} |")
    print(f"| {'store (one transaction) + metrics, ms':44} | {med['store'] * 1000:12.1f} | {'':>10} |")
    print(f"| {'cycle overhead beyond API calls, ms':44} | {overhead_ms:12.1f} | {'< 50':>10} |")
    print(f"| {'daemon RSS steady state (median), MB':44} | {rss['steady_median_mb']:12.1f} | {'< 150':>10} |")
    print(f"| {'daemon RSS peak, MB':44} | {rss['peak_mb']:12.1f} | {'':>10} |")
    print(f"| {'daemon cycles during soak':44} | {rss['cycles']:12.0f} | {'':>10} |")
    print(
        f"| {'SIGTERM to exit, s (exit code ' + str(rss['exit_code']) + ')':44} | "
        f"{rss['stop_seconds']:12.2f} | {'< 10':>10} |"
    )


if __name__ == "__main__":
    main()

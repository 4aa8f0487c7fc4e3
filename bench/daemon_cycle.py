"""Benchmark: daemon resident memory and per-cycle overhead against the demo cloud.

Targets (issue 3): under 150 MB RSS in steady state; cycle overhead beyond the API calls
(evaluate + store + metrics) under 50 ms.

    .venv/bin/python bench/daemon_cycle.py [--cycles 8] [--soak 90]
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

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from posture_demo.run import DemoCloud, demo_config  # noqa: E402

from agent.cycle import Pipeline  # noqa: E402
from agent.store import Store  # noqa: E402


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


def daemon_rss(endpoint: str, soak: float, workdir: Path) -> dict[str, float]:
    port = 19464
    cfg_path = workdir / "agent.yaml"
    cfg_path.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{workdir / 'daemon.db'}",
                "listen": f"127.0.0.1:{port}",
                "log": {"level": "warning", "format": "json"},
                "sources": [
                    {
                        "name": "demo-org",
                        "provider": "aws",
                        "organization": True,
                        "role_name": "OrganizationAccountAccessRole",
                        "regions": ["us-east-1", "eu-west-1"],
                        "endpoint_url": endpoint,
                        "schedule": {"interval": "10s"},
                    }
                ],
            }
        )
    )
    exe = Path(sys.executable).parent / "posture-agent"
    proc = subprocess.Popen([str(exe), "run", "--config", str(cfg_path)], stderr=subprocess.DEVNULL, env={**os.environ})
    samples: list[tuple[float, float]] = []
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < soak:
            samples.append((time.monotonic() - t0, rss_mb(proc.pid)))
            time.sleep(1)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        runs = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("posture_collections_total{")
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        t_stop = time.monotonic()
        code = proc.wait(timeout=15)
        stop_s = time.monotonic() - t_stop
    steady = [mb for t, mb in samples if t >= soak / 2]
    return {
        "peak_mb": max(mb for _, mb in samples),
        "steady_median_mb": statistics.median(steady),
        "cycles": runs,
        "exit_code": code,
        "stop_seconds": stop_s,
    }


def main() -> None:
    import logging

    logging.disable(logging.WARNING)  # the emulator's access log is not the measurement
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=8)
    ap.add_argument("--soak", type=float, default=90.0)
    args = ap.parse_args()
    cloud = DemoCloud()
    cloud.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = in_process_cycles(cloud.endpoint, args.cycles, Path(tmp))
            rss = daemon_rss(cloud.endpoint, args.soak, Path(tmp))
    finally:
        cloud.stop()
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

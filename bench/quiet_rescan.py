"""What rescanning an untouched cloud costs (issue #14): `posture-agent scan` of the demo organisation
(moto with its seeded accounts, behind the demo proxy) run as a user runs it, several times on the same
state, each scan its own process; between scans the store is VACUUMed and measured.

    .venv/bin/python bench/quiet_rescan.py --scans 5
    PYTHONPATH=/tmp/old .venv/bin/python bench/quiet_rescan.py --scans 5   # another checkout, side by side

Prints per rescan (after the first scan): drift events, new blobs, bytes added to the SQLite file
(VACUUMed) and to its row payload (dbstat), and the scan's wall time.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from posture_demo.run import DemoCloud, demo_config


def measure(db: Path) -> tuple[int, int, int, int]:
    """(drift events, blobs, file bytes, payload bytes) after a VACUUM."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("VACUUM")
        drift = conn.execute("SELECT COUNT(*) FROM drift_events").fetchone()[0]
        blobs = conn.execute("SELECT COUNT(*) FROM blobs").fetchone()[0]
        payload = conn.execute("SELECT SUM(payload) FROM dbstat").fetchone()[0] or 0
    finally:
        conn.close()
    return int(drift), int(blobs), db.stat().st_size, int(payload)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scans", type=int, default=5)
    ap.add_argument("--source", default="demo-org", help="the demo source to scan (default: the AWS organisation)")
    args = ap.parse_args()
    cloud = DemoCloud()
    cloud.start()
    try:
        with tempfile.TemporaryDirectory(prefix="quiet-rescan-") as tmp:
            db = Path(tmp) / "posture.db"
            cfg = demo_config(cloud.endpoint, f"sqlite:///{db}", "127.0.0.1:0", "1h", cloud.other_sources)
            config = Path(tmp) / "agent.yaml"
            config.write_text(yaml.safe_dump(cfg.model_dump(mode="json", exclude_none=True)))
            rows = []
            before = None
            for i in range(args.scans):
                if i:
                    time.sleep(1.1)  # observation times have second resolution: let them move
                t0 = time.perf_counter()
                done = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "agent.cli.main",
                        "scan",
                        "--config",
                        str(config),
                        "--source",
                        args.source,
                        "--format",
                        "json",
                        "--output",
                        os.devnull,
                    ],
                    capture_output=True,
                    text=True,
                    env=dict(os.environ),
                    check=False,
                )
                wall = time.perf_counter() - t0
                if done.returncode != 0:
                    print(done.stderr[-2000:], file=sys.stderr)
                    return 1
                now = measure(db)
                if before is not None:
                    rows.append((i, *(a - b for a, b in zip(now, before, strict=True)), wall))
                before = now
    finally:
        cloud.stop()
    print(f"{'rescan':>6} {'drift events':>12} {'new blobs':>9} {'file bytes':>10} {'payload bytes':>13} {'wall s':>7}")
    for i, drift, blobs, size, payload, wall in rows:
        print(f"{i:>6} {drift:>12} {blobs:>9} {size:>10} {payload:>13} {wall:>7.1f}")
    if rows:
        med = [statistics.median(r[k] for r in rows) for k in range(1, 6)]
        print(
            f"median: drift {med[0]:g}, blobs {med[1]:g}, file {med[2]:g} B, payload {med[3]:g} B, wall {med[4]:.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Bytes per unchanged cycle that the witnesses of checkpoints add (issue #13): bench/evidence.py's
estate and cycles, an hourly checkpoint (every fourth cycle) anchored right after it by OpenSSL's TSA
on loopback and/or copied to an Object Lock bucket in moto, as the daemon does.

    .venv/bin/python bench/witnesses.py --db sqlite:////tmp/bench-witnesses.db --witnesses tsa,s3
    .venv/bin/python bench/witnesses.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench --sample 400

Prints the bytes per cycle by table and index (SQLite: dbstat payload; PostgreSQL: relation sizes,
page-granular, so sample more cycles there). Needs openssl for the TSA and moto[server] for the bucket.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evidence as bench  # noqa: E402 (bench/evidence.py, beside this file)
from posture_demo.tsa import LocalTsa  # noqa: E402

from agent.config import AnchorsConfig  # noqa: E402
from agent.evidence.anchoring import Anchorer  # noqa: E402
from agent.evidence.checkpoints import checkpoint_now  # noqa: E402
from agent.models import Snapshot, new_run_id, utcnow  # noqa: E402
from agent.store import RunRecord, Store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--resources", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--sample", type=int, default=200)
    ap.add_argument("--witnesses", default="tsa,s3", help="comma-separated: tsa, s3, or none")
    args = ap.parse_args()
    kinds = {k for k in args.witnesses.split(",") if k and k != "none"}
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    moto: Any = None
    anchors: dict[str, Any] = {}
    if "s3" in kinds:
        import boto3
        from moto.server import ThreadedMotoServer

        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench-anchors", ObjectLockEnabledForBucket=True)
        anchors["s3"] = {"bucket": "bench-anchors", "endpoint_url": endpoint, "retain_days": 400}
    tsa = LocalTsa("bench TSA").start() if "tsa" in kinds else None
    if tsa is not None:
        anchors["tsa"] = [{"url": tsa.url}]
    store = Store(args.db)
    store.upgrade()
    anchorer = Anchorer(store, AnchorsConfig.model_validate(anchors)) if anchors else None
    resources = [bench.resource(i, 0, True) for i in range(args.resources)]
    start = utcnow() - (args.warmup + args.sample) * bench.STEP  # checkpoints near now: the TSA's clock is real
    findings = [bench.finding(r, start) for r in resources]

    def one_cycle(k: int) -> None:
        t = start + k * bench.STEP
        snap = Snapshot(
            source="prod",
            provider="aws",
            account="111122223333",
            started_at=t,
            finished_at=t,
            resources=tuple(resources),
            errors=(),
        )
        store.record_cycle(
            RunRecord(id=new_run_id(t), source="prod", provider="aws", started_at=t, finished_at=t, status="complete"),
            [(snap, findings)],
        )
        if k % 4 == 3:  # hourly
            checkpoint_now(store, t)
            if anchorer is not None:
                result = anchorer.run(now=t)
                assert result.failed == 0, result

    try:
        for k in range(args.warmup):
            one_cycle(k)
        before = bench.payload_by_relation(store)
        for k in range(args.warmup, args.warmup + args.sample):
            one_cycle(k)
        after = bench.payload_by_relation(store)
    finally:
        if anchorer is not None:
            anchorer.close()
        if tsa is not None:
            tsa.stop()
        if moto is not None:
            moto.stop()
    grown = {k: (v - before.get(k, 0)) / args.sample for k, v in after.items() if v != before.get(k, 0)}
    print(
        f"db={store.dialect} witnesses={','.join(sorted(kinds)) or 'none'} sample={args.sample} cycles: "
        f"bytes per unchanged cycle={sum(grown.values()):.0f}"
    )
    print("  by table/index: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(grown.items(), key=lambda x: -x[1])))
    store.close()


if __name__ == "__main__":
    main()

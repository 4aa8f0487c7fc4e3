"""Benchmark: an AWS scan at scale on moto, posture-agent against a plain boto3 floor and Prowler.

Seeds one moto account (IAM users, S3 buckets, EC2 instances and security groups spread over the
regions), then runs each contender as its own subprocess against the same moto server, through
the awsproxy (it fills moto's SSM/Access Analyzer/Backup gaps for everyone and logs every request,
which is how API calls are counted):

  (a) floor      a plain boto3 script making the list/describe calls posture-agent makes, with the
                 same number of worker threads;
  (b) agent      posture-agent's collector + evaluation of every AWS check;
  (c) prowler    `prowler aws --compliance soc2_aws`, installed into .bench/prowler-venv.

Wall time is measured around each subprocess, peak RSS is the child's VmHWM
(sampled from /proc every 50 ms).
posture-agent is also run at 25% and 50% scale to show how wall time grows with resources.

    .venv/bin/python bench/aws_scan.py [--scale 1.0] [--workers 8] [--no-prowler]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGIONS = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-1"]
FULL = {"users": 1000, "buckets": 500, "instances": 500, "security_groups": 1000}
PROWLER_VENV = ROOT / ".bench" / "prowler-venv"
CREDS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_SESSION_TOKEN": "",
    "AWS_PROFILE": "",
}


# -- moto and the proxy ------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """moto in its own process, so its memory and CPU are not charged to any contender."""
    port = free_port()
    env = {**os.environ, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(200):
        try:
            httpx.get(f"{url}/moto-api/", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto server did not start")


def reset(moto: str) -> None:
    import httpx

    httpx.post(f"{moto}/moto-api/reset", timeout=60).raise_for_status()


# -- seeding -----------------------------------------------------------------------------------


def counts(scale: float) -> dict[str, int]:
    return {k: max(1, int(v * scale)) for k, v in FULL.items()}


def seed(moto: str, scale: float, workers: int = 8) -> dict[str, int]:
    """Straight to moto (not through the proxy: seeding is not measured)."""
    import boto3

    os.environ.update({k: v for k, v in CREDS.items() if v})
    session = boto3.Session()
    local = threading.local()

    def client(service: str, region: str = "us-east-1") -> Any:
        key = f"{service}/{region}"
        if not hasattr(local, key):
            setattr(local, key, session.client(service, region_name=region, endpoint_url=moto))
        return getattr(local, key)

    n = counts(scale)
    session.client("iam", endpoint_url=moto)  # load models once before threads start

    def user(i: int) -> None:
        iam = client("iam")
        iam.create_user(UserName=f"user-{i:05d}")
        if i % 4 == 0:  # some console users without MFA, some keys: the checks have work to do
            iam.create_login_profile(UserName=f"user-{i:05d}", Password="Bench-Passw0rd!-long")
        if i % 5 == 0:
            iam.create_access_key(UserName=f"user-{i:05d}")

    def bucket(i: int) -> None:
        region = REGIONS[i % len(REGIONS)]
        s3 = client("s3", region)
        kw = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=f"bench-bucket-{i:05d}", **kw)
        if i % 2 == 0:
            s3.put_bucket_versioning(Bucket=f"bench-bucket-{i:05d}", VersioningConfiguration={"Status": "Enabled"})

    def instances(region: str, count: int) -> None:
        ec2 = client("ec2", region)
        ami = "ami-12c6146b" if region == "eu-west-1" else "ami-1234abcd"
        while count > 0:  # run_instances in batches, as an autoscaling group would
            batch = min(count, 50)
            ec2.run_instances(ImageId=ami, MinCount=batch, MaxCount=batch, InstanceType="t3.micro")
            count -= batch

    def group(i: int) -> None:
        region = REGIONS[i % len(REGIONS)]
        ec2 = client("ec2", region)
        gid = ec2.create_security_group(GroupName=f"sg-{i:05d}", Description="bench")["GroupId"]
        port = (22, 443, 3389, 5432)[i % 4]
        ec2.authorize_security_group_ingress(
            GroupId=gid,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            ],
        )

    per_region = [
        n["instances"] // len(REGIONS) + (1 if r < n["instances"] % len(REGIONS) else 0) for r in range(len(REGIONS))
    ]
    jobs: list[Callable[[], None]] = [lambda i=i: user(i) for i in range(n["users"])]
    jobs += [lambda i=i: bucket(i) for i in range(n["buckets"])]
    jobs += [lambda r=r, c=c: instances(r, c) for r, c in zip(REGIONS, per_region, strict=True) if c]
    jobs += [lambda i=i: group(i) for i in range(n["security_groups"])]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for f in [pool.submit(j) for j in jobs]:
            f.result()
    return n


# -- contenders (each runs in its own subprocess) ----------------------------------------------


def run_agent(endpoint: str, regions: list[str], workers: int) -> dict[str, Any]:
    from agent.evaluate import evaluate
    from agent.registry import load_checks
    from collectors import CollectContext
    from collectors.aws import collect
    from collectors.aws.config import AwsSource

    t0 = time.perf_counter()
    source = AwsSource(name="bench", provider="aws", regions=regions, endpoint_url=endpoint, max_workers=workers)
    snapshots = collect(source, CollectContext())
    t1 = time.perf_counter()
    checks = list(load_checks(["checks.aws"]).values())
    findings = [f for s in snapshots for f in evaluate(s, checks)]
    t2 = time.perf_counter()
    return {
        "resources": sum(len(s.resources) for s in snapshots),
        "findings": len(findings),
        "collection_errors": sum(len(s.errors) for s in snapshots),
        "collect_s": round(t1 - t0, 2),
        "evaluate_s": round(t2 - t1, 2),
    }


# The floor: the same list/describe operations posture-agent sends (its table), written as a plain
# boto3 script. One task per (service, region) like the collector's units; S3 and other per-item
# detail calls run inside their task, as in the collector.
_REGIONAL_SINGLE = [  # (client, method, kwargs): one call (or paginated listing) per region
    ("accessanalyzer", "list_analyzers", {}),
    ("guardduty", "list_detectors", {}),
    ("config", "describe_configuration_recorders", {}),
    ("config", "describe_configuration_recorder_status", {}),
    ("securityhub", "describe_hub", {}),
    ("backup", "list_backup_plans", {}),
    ("backup", "list_protected_resources", {}),
    ("cloudtrail", "describe_trails", {"includeShadowTrails": False}),
    ("ssm", "describe_instance_information", {}),
    ("rds", "describe_db_instances", {}),
    ("kms", "list_keys", {}),
    ("elbv2", "describe_load_balancers", {}),
    ("logs", "describe_log_groups", {}),
    ("lambda", "list_functions", {}),
    ("secretsmanager", "list_secrets", {}),
    ("acm", "list_certificates", {}),
    ("dynamodb", "list_tables", {}),
    ("efs", "describe_file_systems", {}),
    ("sns", "list_topics", {}),
    ("sqs", "list_queues", {}),
    ("eks", "list_clusters", {}),
    ("ecr", "describe_repositories", {}),
]
_EC2 = [
    ("describe_instances", {}),
    ("describe_security_groups", {}),
    ("describe_volumes", {}),
    ("describe_snapshots", {"OwnerIds": ["self"]}),
    ("describe_images", {"Owners": ["self"]}),
    ("describe_vpcs", {}),
    ("describe_flow_logs", {}),
]


def run_floor(endpoint: str, regions: list[str], workers: int) -> dict[str, Any]:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    session = boto3.Session()
    lock = threading.Lock()
    config = Config(max_pool_connections=workers * 2, retries={"mode": "adaptive", "max_attempts": 8})
    items = Counter[str]()

    def client(service: str, region: str) -> Any:
        with lock:  # Session.client is not thread-safe
            return session.client(service, region_name=region, endpoint_url=endpoint, config=config)

    def listing(c: Any, method: str, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            if c.can_paginate(method):
                cfg = (
                    {"PageSize": 50}
                    if method.startswith("describe_") and c.meta.service_model.service_name in ("ec2",)
                    else {}
                )
                return list(c.get_paginator(method).paginate(**kwargs, PaginationConfig=cfg))
            return [getattr(c, method)(**kwargs)]
        except ClientError:
            return []

    def iam() -> None:
        c = client("iam", "us-east-1")
        c.get_account_summary()
        with contextlib.suppress(ClientError):
            c.get_account_password_policy()
        c.generate_credential_report()
        report = c.get_credential_report()["Content"].decode()
        items["user"] += report.count("\n")
        for _ in c.get_paginator("get_account_authorization_details").paginate():
            pass

    def s3() -> None:
        c = client("s3", "us-east-1")
        control = client("s3control", "us-east-1")
        # moto serves s3control on its one host: drop the "{AccountId}." host prefix
        control.meta.events.register(
            "before-send",
            lambda request, **_: setattr(request, "url", re.sub(r"^(https?://)\d{12}\.", r"\1", request.url)),
        )
        with contextlib.suppress(ClientError):
            control.get_public_access_block(
                AccountId=boto3.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
            )

        def details(name: str) -> None:
            for method in (
                "get_bucket_location",
                "get_public_access_block",
                "get_bucket_encryption",
                "get_bucket_versioning",
                "get_bucket_policy",
                "get_bucket_acl",
                "get_bucket_logging",
            ):
                with contextlib.suppress(ClientError):
                    getattr(c, method)(Bucket=name)

        names = [b["Name"] for b in c.list_buckets()["Buckets"]]
        items["bucket"] += len(names)
        # the same per-item fan-out as the agent (up to 8 items of a unit at once)
        with ThreadPoolExecutor(max_workers=8) as per_bucket:
            list(per_bucket.map(details, names))

    def ec2(region: str) -> None:
        c = client("ec2", region)
        c.get_ebs_encryption_by_default()
        for method, kwargs in _EC2:
            for page in listing(c, method, kwargs):
                items[method] += len(next((v for k, v in page.items() if isinstance(v, list)), []))

    def regional(service: str, method: str, kwargs: dict[str, Any], region: str) -> None:
        listing(client(service, region), method, kwargs)

    tasks: list[Callable[[], None]] = [iam, s3]
    for region in regions:
        tasks.append(lambda r=region: ec2(r))
        tasks += [lambda s=s, m=m, k=k, r=region: regional(s, m, k, r) for s, m, k in _REGIONAL_SINGLE]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for f in [pool.submit(t) for t in tasks]:
            f.result()
    return {"items": dict(items), "collect_s": round(time.perf_counter() - t0, 2)}


def prowler_help() -> str:
    out = subprocess.run(
        [str(PROWLER_VENV / "bin" / "prowler"), "aws", "--help"], capture_output=True, text=True, timeout=300
    )
    return out.stdout + out.stderr


def ensure_prowler() -> str | None:
    """Install Prowler into its own virtualenv (idempotent); None when ready, else why not."""
    if (PROWLER_VENV / "bin" / "prowler").exists():
        return None
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PROWLER_VENV)], check=True, timeout=300)
        subprocess.run(
            [str(PROWLER_VENV / "bin" / "pip"), "install", "-q", "prowler"],
            check=True,
            timeout=1800,
            capture_output=True,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return f"install failed: {exc}"
    return None


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    api_calls: int = 0
    ok: bool = True
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    ops: Counter[tuple[str, str]] = field(default_factory=Counter)


def _vm_hwm_kb(pid: int) -> int:
    """The process's peak resident set (kB) so far, 0 once it has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(
    name: str,
    argv: list[str],
    env: dict[str, str],
    seen: deque[Any],
    timeout: float | None = None,
    cwd: str | None = None,
) -> Result:
    """Run one contender; wall time, peak RSS (ru_maxrss of the child) and the proxy's request count."""
    seen.clear()
    t0 = time.perf_counter()
    out = tempfile.TemporaryFile()  # noqa: SIM115 - read after the child exits, then dropped
    err = tempfile.TemporaryFile()  # noqa: SIM115
    proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, cwd=cwd)
    deadline = None if timeout is None else t0 + timeout
    res = Result(name)
    hwm_kb = 0
    while True:
        hwm_kb = max(hwm_kb, _vm_hwm_kb(proc.pid))
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline and time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            res.ok, res.note = False, f"timed out after {timeout:.0f} s"
            break
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    res.wall_s = time.perf_counter() - t0
    # VmHWM, sampled: ru_maxrss of a forked child also counts the parent's RSS at fork time.
    res.peak_rss_mb = hwm_kb / 1024
    res.api_calls = len(seen)
    res.ops = Counter((i.service, i.operation) for i in list(seen))
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if res.ok and proc.returncode != 0 and name != "prowler":
        res.ok, res.note = False, f"exit {proc.returncode}: {stderr.strip().splitlines()[-1:]}"
    if name == "prowler":
        res.detail = {"exit": proc.returncode, "tail": (stdout + stderr).strip().splitlines()[-8:]}
    else:
        try:
            res.detail = json.loads(stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res.detail = {"stdout": stdout[-500:], "stderr": stderr[-1500:]}
    return res


def child_env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({k: v for k, v in CREDS.items() if v})
    env["AWS_ENDPOINT_URL"] = endpoint
    return env


def contender(kind: str, endpoint: str, regions: list[str], workers: int) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--contender",
        kind,
        "--endpoint",
        endpoint,
        "--regions",
        ",".join(regions),
        "--workers",
        str(workers),
    ]


def prowler_argv(regions: list[str], outdir: str) -> list[str]:
    help_text = prowler_help()
    argv = [str(PROWLER_VENV / "bin" / "prowler"), "aws", "--compliance", "soc2_aws"]
    argv += ["--region", *regions] if "--region" in help_text else ["-f", *regions]
    for flag in ("--no-banner", "--ignore-exit-code-3"):
        if flag in help_text:
            argv.append(flag)
    argv += ["-M", "json-ocsf", "-o", outdir]
    return argv


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = 1,000 users, 500 buckets, 500 instances, 1,000 security groups"
    )
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--linearity", default="0.25,0.5", help="extra posture-agent scales ('' = none)")
    ap.add_argument("--no-prowler", action="store_true")
    ap.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="runs of the agent and the floor, alternated; the fastest of each is reported",
    )
    ap.add_argument("--prowler-timeout", type=float, default=900.0)
    ap.add_argument("--contender", choices=["agent", "floor"], help=argparse.SUPPRESS)
    ap.add_argument("--endpoint", help=argparse.SUPPRESS)
    ap.add_argument("--regions", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.contender:
        fn = run_agent if args.contender == "agent" else run_floor
        print(json.dumps(fn(args.endpoint, args.regions.split(","), args.workers)))
        return

    from posture_demo.awsproxy import AwsProxy

    started = time.perf_counter()
    moto_proc, moto = start_moto()
    seen: deque[Any] = deque()  # unbounded: every request the contenders make
    proxy = AwsProxy(moto, seen=seen).start()
    env = child_env(proxy.url)
    prowler_why = None if args.no_prowler else ensure_prowler()
    try:
        scales = sorted({float(s) for s in args.linearity.split(",") if s} | {args.scale})
        agent_runs: dict[float, tuple[dict[str, int], float, Result]] = {}
        results: list[Result] = []
        for scale in scales:
            reset(moto)
            t = time.perf_counter()
            n = seed(moto, scale)
            seeded_s = time.perf_counter() - t
            print(f"scale {scale}: seeded {n} in {seeded_s:.0f} s", flush=True)
            # the first contender also pays moto's lazy start of each service backend: alternate the
            # two and keep each one's fastest run of --repeat
            agent = floor = None
            for _ in range(args.repeat):
                a = measure("posture-agent", contender("agent", proxy.url, REGIONS, args.workers), env, seen)
                print(f"  posture-agent {a.wall_s:.1f} s, {a.api_calls} calls, {a.detail}", flush=True)
                agent = a if agent is None or a.wall_s < agent.wall_s else agent
                if scale != args.scale:
                    break
                f = measure("floor (boto3)", contender("floor", proxy.url, REGIONS, args.workers), env, seen)
                print(f"  floor {f.wall_s:.1f} s, {f.api_calls} calls, {f.detail}", flush=True)
                floor = f if floor is None or f.wall_s < floor.wall_s else floor
            assert agent is not None
            agent_runs[scale] = (n, seeded_s, agent)
            if floor is None:
                continue
            results = [floor, agent]
            if args.no_prowler:
                results.append(Result("prowler", ok=False, note="skipped (--no-prowler)"))
            elif prowler_why:
                results.append(Result("prowler", ok=False, note=f"did not run: {prowler_why}"))
            else:
                outdir = tempfile.mkdtemp(prefix="prowler-out-")
                pr = measure(
                    "prowler", prowler_argv(REGIONS, outdir), env, seen, timeout=args.prowler_timeout, cwd=outdir
                )
                produced = sum(1 for p in Path(outdir).rglob("*.json*"))
                if pr.ok and pr.detail.get("exit") not in (0, 3):
                    pr.ok = False
                    pr.note = f"did not run against moto: exit {pr.detail.get('exit')}: " + " | ".join(
                        pr.detail.get("tail", [])[-3:]
                    )
                elif pr.ok:
                    pr.note = f"exit {pr.detail.get('exit')}, {produced} output file(s)"
                else:
                    pr.note = f"did not complete against moto: {pr.note}"
                print(f"  prowler {pr.wall_s:.1f} s, {pr.api_calls} calls: {pr.note}", flush=True)
                shutil.rmtree(outdir, ignore_errors=True)
                results.append(pr)
        report(args, results, agent_runs, time.perf_counter() - started)
    finally:
        proxy.stop()
        moto_proc.terminate()
        moto_proc.wait(timeout=30)


def report(
    args: argparse.Namespace,
    results: list[Result],
    agent_runs: dict[float, tuple[dict[str, int], float, Result]],
    total_s: float,
) -> None:
    n = agent_runs[args.scale][0]
    print(
        f"\nAWS scan, {len(REGIONS)} regions ({', '.join(REGIONS)}), one account, workers={args.workers}, "
        f"{n['users']} users / {n['buckets']} buckets / {n['instances']} instances / "
        f"{n['security_groups']} security groups; machine: {os.cpu_count()} cores, shared"
    )
    print("\n| contender | wall s | peak RSS MB | API calls | note |\n|---|---:|---:|---:|---|")
    for r in results:
        wall = f"{r.wall_s:.1f}" if r.wall_s else "-"
        rss = f"{r.peak_rss_mb:.0f}" if r.peak_rss_mb else "-"
        print(f"| {r.name} | {wall} | {rss} | {r.api_calls or '-'} | {r.note} |")
    floor, agent = results[0], results[1]
    print(f"\nposture-agent / floor: {agent.wall_s / floor.wall_s:.2f}x (target <= 1.5x)")
    pr = results[2] if len(results) > 2 else None
    if pr is not None and pr.ok and pr.wall_s:
        print(f"prowler / posture-agent: {pr.wall_s / agent.wall_s:.1f}x (target >= 5x)")
    only_agent = sorted(set(agent.ops) - set(floor.ops))
    only_floor = sorted(set(floor.ops) - set(agent.ops))
    print(f"operations only posture-agent sent: {only_agent or 'none'}; only the floor: {only_floor or 'none'}")
    print(
        "\nlinearity (posture-agent):\n"
        "| scale | resources seeded | collected | wall s | s per 1,000 resources |\n"
        "|---:|---:|---:|---:|---:|"
    )
    for scale, (cnt, _, res) in sorted(agent_runs.items()):
        total = sum(cnt.values())
        print(
            f"| {scale:g} | {total} | {res.detail.get('resources', '?')} | {res.wall_s:.1f} | "
            f"{1000 * res.wall_s / total:.1f} |"
        )
    print(
        f"\nbenchmark total {total_s / 60:.1f} min; peak RSS of this driver (proxy) "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()

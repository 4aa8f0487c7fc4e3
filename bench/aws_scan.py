"""Benchmark: `posture-agent scan aws` on plain moto, against a minimal boto3 floor and Prowler.

For each scenario a fresh moto server (`moto_server`, its own process on 127.0.0.1, nothing in front
of it) is started and seeded once; then the contenders run against it in turn, each run a fresh
subprocess, alternating (floor, agent, prowler, floor, agent, ...):

  floor    bench/aws_floor.py: a plain boto3 script written from docs/checks.md (for each AWS check,
           the list/describe calls that give its inputs), importing nothing from posture-agent;
           botocore's default retries, 8 threads over (service, region) and 8 for per-item calls;
           it writes what it read as JSON and evaluates nothing;
  agent    the installed CLI, the whole command: `posture-agent scan aws -r R1 -r R2
           --db sqlite:///<fresh file> --format json --output <file>` (collection, the 59 checks,
           the store and the output);
  prowler  `prowler aws --compliance soc2_aws -f R1 R2`, from its own virtualenv
           (--setup-prowler installs it into .bench/prowler-venv).

All three reach moto the same way: credentials and AWS_ENDPOINT_URL in the environment (boto3 1.28
and later send every client there). Scenarios:

  small        a handful of users, buckets, instances and security groups with known
               misconfigurations, in us-east-1 and eu-west-1, scanned in those 2 regions;
  large        the same plus 500 users, 300 buckets and 100 instances, 2 regions;
  all-regions  the small account scanned in every region moto's ec2 DescribeRegions lists for the
               commercial partition (the us-gov and cn regions are other partitions, other accounts).

Per run: wall time around the subprocess; peak RSS is GNU time's %M (the largest process of the
contender's tree) and, sampled every 100 ms from /proc, the peak of the whole tree's summed VmRSS;
requests are counted in moto's access log (retries included). Reported: min and median of each.

    .venv/bin/python bench/aws_scan.py --runs 3 --scenario all --no-prowler
    .venv/bin/python bench/aws_scan.py --setup-prowler          # once: pip install prowler
    .venv/bin/python bench/aws_scan.py --runs 3 --scenario small
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PROWLER_VENV = ROOT / ".bench" / "prowler-venv"
PROWLER = PROWLER_VENV / "bin" / "prowler"
TWO_REGIONS = ["us-east-1", "eu-west-1"]
CREDS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
SCENARIOS = ("small", "large", "all-regions")
ACCESS_LINE = re.compile(rb'HTTP/1\.[01][^"]*" (\d{3}) ')


# -- moto ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Moto:
    """A fresh `moto_server` process; its access log (stderr) counts the requests."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    def start(cls, workdir: Path) -> Moto:
        port = free_port()
        log = workdir / "moto.log"
        env = {**os.environ, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return cls(proc, url, log)
            time.sleep(0.1)
        proc.kill()
        raise SystemExit("moto_server did not start")

    def requests(self) -> tuple[int, int]:
        """Requests logged so far, and how many of them were answered 5xx."""
        codes = ACCESS_LINE.findall(self.log.read_bytes())
        return len(codes), sum(1 for c in codes if c.startswith(b"5"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


# -- seeding (once per scenario, straight to moto, not measured) ---------------------------------

_ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


class Seeder:
    def __init__(self, url: str) -> None:
        import boto3

        self.session = boto3.Session(**{k.lower(): v for k, v in CREDS.items() if k != "AWS_DEFAULT_REGION"})
        self.url = url
        self.lock = threading.Lock()
        self.cache: dict[tuple[str, str], Any] = {}
        self.skipped: list[str] = []

    def c(self, service: str, region: str = "us-east-1") -> Any:
        with self.lock:
            if (service, region) not in self.cache:
                self.cache[(service, region)] = self.session.client(service, region_name=region, endpoint_url=self.url)
            return self.cache[(service, region)]

    @contextlib.contextmanager
    def optional(self, what: str) -> Iterator[None]:
        """Seeding of a service moto may not implement: skipped (and said) rather than failed."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - any moto gap
            self.skipped.append(f"{what}: {type(exc).__name__}")

    # the small account: one or two of each thing, most of them failing a check on purpose
    def small(self) -> None:
        iam = self.c("iam")
        iam.update_account_password_policy(MinimumPasswordLength=8)  # weak
        admin = iam.create_policy(PolicyName="FullAdmin", PolicyDocument=_ADMIN)["Policy"]["Arn"]
        iam.create_group(GroupName="admins")
        iam.attach_group_policy(GroupName="admins", PolicyArn=admin)
        for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
            iam.create_user(UserName=name)
        iam.create_login_profile(UserName="alice", Password="Alice-Passw0rd!-long")  # console, no MFA
        iam.create_login_profile(UserName="bob", Password="Bob-Passw0rd!-long-1")
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="bob")["VirtualMFADevice"]["SerialNumber"]
        iam.enable_mfa_device(
            UserName="bob", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
        )
        iam.create_access_key(UserName="carol")
        iam.create_access_key(UserName="carol")  # two active keys
        iam.attach_user_policy(UserName="dave", PolicyArn=admin)  # direct admin
        iam.put_user_policy(UserName="erin", PolicyName="inline", PolicyDocument=_ADMIN)  # inline admin
        iam.add_user_to_group(GroupName="admins", UserName="frank")  # admin through a group
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=_TRUST)["Role"]["Arn"]

        s3 = self.c("s3")
        s3.create_bucket(Bucket="small-trail-logs")
        s3.put_bucket_acl(Bucket="small-trail-logs", ACL="public-read")  # CloudTrail's bucket, public
        s3.create_bucket(Bucket="small-good")
        s3.put_bucket_versioning(Bucket="small-good", VersioningConfiguration={"Status": "Enabled"})
        s3.put_public_access_block(
            Bucket="small-good",
            PublicAccessBlockConfiguration=dict.fromkeys(
                ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
            ),
        )
        s3.put_bucket_policy(
            Bucket="small-good",
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": ["arn:aws:s3:::small-good", "arn:aws:s3:::small-good/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                }
            ),
        )
        s3.create_bucket(Bucket="small-access-logs", ACL="log-delivery-write")
        s3.put_bucket_logging(
            Bucket="small-good",
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "small-access-logs", "TargetPrefix": "good/"}},
        )
        eu = self.c("s3", "eu-west-1")
        eu.create_bucket(Bucket="small-public-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        eu.put_bucket_policy(
            Bucket="small-public-eu",
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::small-public-eu/*",
                        }
                    ],
                }
            ),
        )
        eu.create_bucket(Bucket="small-plain-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

        ct = self.c("cloudtrail")
        ct.create_trail(Name="main", S3BucketName="small-trail-logs")  # one region, no validation, no KMS
        ct.start_logging(Name="main")

        for region in TWO_REGIONS:
            self.small_region(region, role)

    def small_region(self, region: str, role: str) -> None:
        ec2 = self.c("ec2", region)
        ami = "ami-12c6146b" if region == "eu-west-1" else "ami-1234abcd"
        ec2.run_instances(ImageId=ami, MinCount=2, MaxCount=2, InstanceType="t3.micro")  # IMDSv1 allowed
        ec2.run_instances(
            ImageId=ami,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
        )
        for name, port in (("open-ssh", 22), ("open-rdp", 3389), ("open-postgres", 5432), ("web", 443)):
            gid = ec2.create_security_group(GroupName=name, Description="bench")["GroupId"]
            ec2.authorize_security_group_ingress(
                GroupId=gid,
                IpPermissions=[
                    {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
                ],
            )
        az = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
        plain = ec2.create_volume(AvailabilityZone=az, Size=8)["VolumeId"]  # unencrypted
        ec2.create_volume(AvailabilityZone=az, Size=8, Encrypted=True)
        snap = ec2.create_snapshot(VolumeId=plain)["SnapshotId"]
        ec2.modify_snapshot_attribute(
            SnapshotId=snap, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
        )  # public snapshot
        if region == "eu-west-1":
            ec2.enable_ebs_encryption_by_default()
        with self.optional(f"ec2 flow log {region}"):
            vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
            ec2.create_flow_logs(
                ResourceIds=[vpc],
                ResourceType="VPC",
                TrafficType="ALL",
                LogDestinationType="s3",
                LogDestination="arn:aws:s3:::small-trail-logs",
            )

        self.c("kms", region).create_key(Description="no rotation")
        self.c("logs", region).create_log_group(logGroupName="/app/no-retention")
        self.c("sns", region).create_topic(Name="alerts")  # not KMS-encrypted
        self.c("sqs", region).create_queue(QueueName="jobs")
        self.c("secretsmanager", region).create_secret(Name="db-password", SecretString="s3cr3t")  # no rotation
        self.c("dynamodb", region).create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )  # no PITR
        self.c("ecr", region).create_repository(repositoryName="app")  # no scan on push
        if region == "us-east-1":
            self.c("guardduty", region).create_detector(Enable=True)  # only here
        with self.optional(f"rds {region}"):
            self.c("rds", region).create_db_instance(
                DBInstanceIdentifier="db1",
                DBInstanceClass="db.t3.micro",
                Engine="postgres",
                MasterUsername="admin1",
                MasterUserPassword="Passw0rd-long-1",
                AllocatedStorage=20,
                PubliclyAccessible=True,
                BackupRetentionPeriod=1,
            )
        with self.optional(f"efs {region}"):
            self.c("efs", region).create_file_system(CreationToken="fs1", Encrypted=False)
        with self.optional(f"lambda {region}"):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr("index.py", "def handler(e, c):\n    return 1\n")
            lam = self.c("lambda", region)
            lam.create_function(
                FunctionName="legacy",
                Runtime="python3.7",  # out of support
                Role=role,
                Handler="index.handler",
                Code={"ZipFile": buf.getvalue()},
            )
            lam.create_function_url_config(FunctionName="legacy", AuthType="NONE")
        with self.optional(f"acm {region}"):
            self.c("acm", region).request_certificate(DomainName=f"app.{region}.example.com")
        with self.optional(f"elbv2 {region}"):
            subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
            elb = self.c("elbv2", region)
            lb = elb.create_load_balancer(Name="web", Subnets=subnets, Scheme="internet-facing")
            tg = elb.create_target_group(
                Name="web", Protocol="HTTP", Port=80, VpcId=ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
            )
            elb.create_listener(
                LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"],
                Protocol="HTTP",
                Port=80,  # plain HTTP on an internet-facing load balancer
                DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroups"][0]["TargetGroupArn"]}],
            )
        with self.optional(f"backup {region}"):
            self.c("backup", region).create_backup_plan(
                BackupPlan={
                    "BackupPlanName": "daily",
                    "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "Default"}],
                }
            )

    # the large account: the small one plus users, buckets and instances in numbers
    def large(self, users: int = 500, buckets: int = 300, instances: int = 100) -> None:
        def user(i: int) -> None:
            iam = self.c("iam")
            iam.create_user(UserName=f"user-{i:04d}")
            if i % 4 == 0:  # console users without MFA
                iam.create_login_profile(UserName=f"user-{i:04d}", Password="Bench-Passw0rd!-long")
            if i % 5 == 0:
                iam.create_access_key(UserName=f"user-{i:04d}")

        def bucket(i: int) -> None:
            region = TWO_REGIONS[i % 2]
            s3 = self.c("s3", region)
            kw = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            s3.create_bucket(Bucket=f"bench-bucket-{i:04d}", **kw)
            if i % 2 == 0:
                s3.put_bucket_versioning(Bucket=f"bench-bucket-{i:04d}", VersioningConfiguration={"Status": "Enabled"})

        def fleet(region: str) -> None:
            ami = "ami-12c6146b" if region == "eu-west-1" else "ami-1234abcd"
            self.c("ec2", region).run_instances(
                ImageId=ami, MinCount=instances // 2, MaxCount=instances // 2, InstanceType="t3.micro"
            )

        jobs: list[Callable[[], None]] = [lambda i=i: user(i) for i in range(users)]
        jobs += [lambda i=i: bucket(i) for i in range(buckets)]
        jobs += [lambda r=r: fleet(r) for r in TWO_REGIONS]
        self.c("iam"), self.c("s3", "us-east-1"), self.c("s3", "eu-west-1")  # models load before the threads
        with ThreadPoolExecutor(max_workers=8) as pool:
            for f in [pool.submit(j) for j in jobs]:
                f.result()


def commercial_regions(url: str) -> list[str]:
    import boto3

    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=url, **_creds_kwargs())
    names = [r["RegionName"] for r in ec2.describe_regions()["Regions"]]
    return sorted(n for n in names if not n.startswith(("us-gov-", "cn-", "us-iso")))


def _creds_kwargs() -> dict[str, str]:
    return {"aws_access_key_id": CREDS["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": CREDS["AWS_SECRET_ACCESS_KEY"]}


# -- contenders ---------------------------------------------------------------------------------


def floor_argv(regions: list[str], out: Path) -> list[str]:
    return [sys.executable, str(ROOT / "bench" / "aws_floor.py"), "--regions", ",".join(regions), "--output", str(out)]


def agent_argv(regions: list[str], out: Path) -> list[str]:
    argv = [str(BIN / "posture-agent"), "scan", "aws"]
    for r in regions:
        argv += ["-r", r]
    return [*argv, "--db", f"sqlite:///{out.parent / 'scan.db'}", "--format", "json", "--output", str(out)]


def prowler_argv(regions: list[str], out: Path) -> list[str]:
    return [
        str(PROWLER),
        "aws",
        "--compliance",
        "soc2_aws",
        "-f",
        *regions,
        "--no-banner",
        "-M",
        "json-ocsf",
        "-o",
        str(out.parent),
        "-F",
        "prowler",
    ]


ARGV: dict[str, Callable[[list[str], Path], list[str]]] = {
    "floor": floor_argv,
    "agent": agent_argv,
    "prowler": prowler_argv,
}


def setup_prowler() -> None:
    """Prowler in its own virtualenv (.bench/prowler-venv, ignored by git)."""
    if not PROWLER.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PROWLER_VENV)], check=True)
        subprocess.run([str(PROWLER_VENV / "bin" / "pip"), "install", "--upgrade", "pip"], check=True)
        subprocess.run([str(PROWLER_VENV / "bin" / "pip"), "install", "prowler"], check=True)
    print(f"prowler: {prowler_version() or 'not installed'} in {PROWLER_VENV}")


def prowler_version() -> str | None:
    if not PROWLER.exists():
        return None
    out = subprocess.run([str(PROWLER), "--version"], capture_output=True, text=True, timeout=300)
    return (out.stdout or out.stderr).strip().splitlines()[-1] if (out.stdout or out.stderr) else "?"


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Run:
    contender: str
    wall_s: float
    max_rss_mb: float  # GNU time %M: the largest process of the tree
    tree_rss_mb: float  # sampled peak of the tree's summed VmRSS
    requests: int
    errors_5xx: int
    exit: int
    note: str = ""


def _tree(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                    todo += [int(x) for x in f.read().split()]
    return pids


def _rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure(contender: str, regions: list[str], env: dict[str, str], moto: Moto, timeout: float) -> Run:
    work = Path(tempfile.mkdtemp(prefix=f"aws-scan-{contender}-"))
    out = work / "out.json"
    timing = work / "time.txt"
    argv = ["/usr/bin/time", "-f", "%M", "-o", str(timing), *ARGV[contender](regions, out)]
    before, before_5xx = moto.requests()
    with (work / "stdout").open("wb") as so, (work / "stderr").open("wb") as se:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=so, stderr=se, cwd=work)
        tree_kb = 0
        note = ""
        while proc.poll() is None:
            # the tree below /usr/bin/time (itself about 2 MB) summed
            tree_kb = max(tree_kb, sum(_rss_kb(p) for p in _tree(proc.pid)[1:]))
            if time.perf_counter() - t0 > timeout:
                proc.kill()  # /usr/bin/time only: its child is reparented and stopped below
                for p in _tree(proc.pid)[1:]:
                    with contextlib.suppress(OSError):
                        os.kill(p, 9)
                note = f"killed after {timeout:.0f} s"
                break
            time.sleep(0.1)
        rc = proc.wait()
        wall = time.perf_counter() - t0
    after, after_5xx = moto.requests()
    max_kb = 0
    with contextlib.suppress(OSError, ValueError):
        max_kb = int(timing.read_text().strip().splitlines()[-1])
    if not note:
        note = describe_output(contender, work, rc)
    shutil.rmtree(work, ignore_errors=True)
    return Run(contender, wall, max_kb / 1024, tree_kb / 1024, after - before, after_5xx - before_5xx, rc, note)


def describe_output(contender: str, work: Path, rc: int) -> str:
    """What the run produced: a check that every contender did its job."""
    try:
        if contender == "floor":
            data = json.loads((work / "out.json").read_text())
            failed = Counter(e.split(" ", 1)[0] for e in data["errors"])
            return f"{len(data['data'].get('s3', {}).get('global', {}))} buckets; errors: " + ", ".join(
                f"{op} x{n}" for op, n in sorted(failed.items())
            )
        if contender == "agent":
            text = (work / "out.json").read_text()
            return _agent_summary(json.loads(text))
        files = list(work.rglob("*.ocsf.json"))
        findings = sum(len(json.loads(f.read_text() or "[]")) for f in files)
        tail = (work / "stderr").read_text(errors="replace").strip().splitlines()[-1:] if rc not in (0, 3) else []
        return f"{findings} findings{' ' + tail[0][:120] if tail else ''}"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        err = (work / "stderr").read_text(errors="replace").strip().splitlines()[-1:]
        return f"no output ({type(exc).__name__}) {err[0][:160] if err else ''}"


def _agent_summary(doc: Any) -> str:
    findings = doc.get("findings") if isinstance(doc, dict) else doc
    if isinstance(findings, list):
        failing = sum(1 for f in findings if isinstance(f, dict) and f.get("status") == "fail")
        return f"{len(findings)} findings, {failing} failing"
    return f"output keys: {sorted(doc)[:6]}"


def child_env(url: str, agent_src: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONPATH"}
    if agent_src is not None:
        env["PYTHONPATH"] = str(agent_src)
    env.update(CREDS)
    env["AWS_ENDPOINT_URL"] = url
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return env


# -- main ---------------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    regions: list[str]
    seeded_s: float
    skipped: list[str]
    runs: list[Run] = field(default_factory=list)


def run_scenario(name: str, args: argparse.Namespace, contenders: list[str]) -> Scenario:
    work = Path(tempfile.mkdtemp(prefix=f"aws-scan-{name}-"))
    moto = Moto.start(work)
    try:
        t = time.perf_counter()
        seeder = Seeder(moto.url)
        seeder.small()
        if name == "large":
            seeder.large()
        regions = commercial_regions(moto.url) if name == "all-regions" else TWO_REGIONS
        sc = Scenario(name, regions, time.perf_counter() - t, seeder.skipped)
        print(
            f"\n== {name}: seeded in {sc.seeded_s:.0f} s; {len(regions)} regions; moto {moto.url}"
            + (f"; not seeded (moto gaps): {', '.join(seeder.skipped)}" if seeder.skipped else ""),
            flush=True,
        )
        env = child_env(moto.url, args.agent_src)
        for i in range(args.runs):
            for who in contenders:
                if who == "prowler" and i >= args.prowler_runs:
                    continue
                r = measure(who, regions, env, moto, args.prowler_timeout if who == "prowler" else args.timeout)
                sc.runs.append(r)
                print(
                    f"  run {i + 1} {who:8} {r.wall_s:7.1f} s  max RSS {r.max_rss_mb:5.0f} MB  "
                    f"tree {r.tree_rss_mb:5.0f} MB  {r.requests:6} requests ({r.errors_5xx} 5xx)  "
                    f"exit {r.exit}  {r.note}",
                    flush=True,
                )
        return sc
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)


def summary(scenarios: list[Scenario]) -> str:
    lines = [
        "| scenario | contender | runs | wall s min | wall s median | max RSS MB (median) | tree RSS MB (median) "
        "| requests (median) | 5xx (median) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ratios = []
    for sc in scenarios:
        stats: dict[str, tuple[float, float]] = {}
        for who in ARGV:
            rs = [r for r in sc.runs if r.contender == who and not r.note.startswith("killed")]
            if not rs:
                continue
            walls = [r.wall_s for r in rs]
            stats[who] = (min(walls), statistics.median(walls))
            lines.append(
                f"| {sc.name} ({len(sc.regions)} regions) | {who} | {len(rs)} | {min(walls):.1f} | "
                f"{statistics.median(walls):.1f} | {statistics.median(r.max_rss_mb for r in rs):.0f} | "
                f"{statistics.median(r.tree_rss_mb for r in rs):.0f} | "
                f"{statistics.median(r.requests for r in rs):.0f} | "
                f"{statistics.median(r.errors_5xx for r in rs):.0f} |"
            )
        for a, b in (("agent", "floor"), ("prowler", "agent")):
            if a in stats and b in stats:
                ratios.append(
                    f"- {sc.name}: {a}/{b} {stats[a][0] / stats[b][0]:.2f}x on min, "
                    f"{stats[a][1] / stats[b][1]:.2f}x on median"
                )
    return "\n".join(lines + [""] + ratios)


def export_agent(ref: str, into: Path) -> str:
    """The agent's code as of a commit, exported (git archive) beside the working tree: others edit
    the working tree while the benchmark runs, and the figures must belong to one commit. The
    installed CLI then imports it through PYTHONPATH (ahead of the editable install's path)."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "agent", "checks", "collectors", "mappings"],
        capture_output=True,
        check=True,
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return commit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="small")
    ap.add_argument("--runs", type=int, default=3, help="runs of each contender, alternated (default 3)")
    ap.add_argument("--no-prowler", action="store_true", help="leave Prowler out even when installed")
    ap.add_argument("--setup-prowler", action="store_true", help="install Prowler into .bench/prowler-venv, then exit")
    ap.add_argument("--prowler-runs", type=int, default=None, help="runs of Prowler (default: --runs)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per run of the floor or the agent, seconds")
    ap.add_argument("--prowler-timeout", type=float, default=3600.0)
    ap.add_argument("--json", type=Path, help="also write every run here")
    ap.add_argument(
        "--agent-ref",
        default="HEAD",
        help="the commit whose agent is measured, exported with git archive (default HEAD); "
        "'worktree' runs the working tree as it is, uncommitted edits included",
    )
    args = ap.parse_args()
    if args.setup_prowler:
        setup_prowler()
        return
    if args.prowler_runs is None:
        args.prowler_runs = args.runs
    contenders = ["floor", "agent"]
    prowler = None if args.no_prowler else prowler_version()
    if prowler:
        contenders.append("prowler")
    elif not args.no_prowler:
        print("Prowler is not installed: run with --setup-prowler first (or pass --no-prowler)")
    with tempfile.TemporaryDirectory(prefix="aws-scan-agent-") as src:
        if args.agent_ref == "worktree":
            args.agent_src = None
            commit = (
                "working tree of "
                + subprocess.run(
                    ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
                ).stdout.strip()
            )
        else:
            args.agent_src = Path(src)
            commit = export_agent(args.agent_ref, Path(src))
        run_all(args, contenders, prowler, commit)


def run_all(args: argparse.Namespace, contenders: list[str], prowler: str | None, commit: str) -> None:
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    print(
        f"commit {commit}; moto {moto_version()} (moto_server, plain); {os.cpu_count()} cores; "
        f"runs {args.runs}, alternating {', '.join(contenders)}" + (f"; prowler {prowler}" if prowler else "")
    )
    scenarios = [run_scenario(n, args, contenders) for n in names]
    print("\n" + summary(scenarios))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "commit": commit,
                    "moto": moto_version(),
                    "prowler": prowler,
                    "scenarios": [
                        {
                            "name": s.name,
                            "regions": s.regions,
                            "seeded_s": s.seeded_s,
                            "skipped": s.skipped,
                            "runs": [r.__dict__ for r in s.runs],
                        }
                        for s in scenarios
                    ],
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()

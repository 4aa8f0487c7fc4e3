"""The floor of bench/aws_scan.py: the least a plain boto3 script must read to evaluate the AWS checks.

Written from the "reads" column of docs/checks.md, check by check, without importing anything from
posture-agent and without its call list: for each check, the list/describe calls that give its
inputs, each made once per region (or once for a global service), and the per-item calls only for
the items that exist. boto3's defaults throughout (credentials and endpoint from the environment,
botocore's default retry configuration); one pool of threads over (service, region) and a second
pool for per-item calls. It evaluates nothing: it writes what it read as JSON, which is less work
than any scanner can do with the same data.

    python bench/aws_floor.py --regions us-east-1,eu-west-1 --output /tmp/floor.json
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

ACM_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]


class Floor:
    def __init__(self, regions: list[str], workers: int) -> None:
        self.regions = regions
        self.session = boto3.Session()
        self.clients: dict[tuple[str, str], Any] = {}
        self.lock = threading.Lock()
        self.details = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detail")
        self.data: dict[str, Any] = {}
        self.errors: list[str] = []

    # -- plumbing -------------------------------------------------------------------------------

    def client(self, service: str, region: str) -> Any:
        with self.lock:  # creating clients from one Session is not thread-safe; using them is
            key = (service, region)
            if key not in self.clients:
                self.clients[key] = self.session.client(service, region_name=region)
                if service == "s3control":
                    # an endpoint override (an emulator) gets "<account>." prepended to its host by
                    # the s3control endpoint rules: send it to the emulator's own host instead
                    self.clients[key].meta.events.register("before-send", _drop_account_host)
            return self.clients[key]

    def call(self, service: str, region: str, op: str, **kw: Any) -> dict[str, Any]:
        try:
            return dict(getattr(self.client(service, region), op)(**kw))
        except (ClientError, BotoCoreError) as exc:
            self.errors.append(f"{service}:{op} {region}: {type(exc).__name__}: {str(exc)[:120]}")
            return {}

    def pages(self, service: str, region: str, op: str, key: str, **kw: Any) -> list[Any]:
        c = self.client(service, region)
        out: list[Any] = []
        try:
            if c.can_paginate(op):
                for page in c.get_paginator(op).paginate(**kw):
                    out += page.get(key, [])
            else:
                out = getattr(c, op)(**kw).get(key, [])
        except (ClientError, BotoCoreError) as exc:
            self.errors.append(f"{service}:{op} {region}: {type(exc).__name__}: {str(exc)[:120]}")
        return out

    def each(self, items: list[Any], fn: Callable[[Any], Any]) -> list[Any]:
        """Per-item calls, on the detail pool."""
        return list(self.details.map(fn, items))

    def put(self, kind: str, region: str, value: Any) -> None:
        with self.lock:
            self.data.setdefault(kind, {})[region] = value

    # -- global services --------------------------------------------------------------------------

    def iam(self) -> None:
        r = "us-east-1"
        out: dict[str, Any] = {}
        # root_access_keys_absent, root_mfa_enabled
        out["summary"] = self.call("iam", r, "get_account_summary").get("SummaryMap")
        # password_policy_strong (NoSuchEntity = no policy)
        out["password_policy"] = self.call_quiet("iam", r, "get_account_password_policy").get("PasswordPolicy")
        # the credential report: console_user_mfa, access keys, inactive and unused credentials
        for _ in range(60):
            if self.call("iam", r, "generate_credential_report").get("State") == "COMPLETE":
                break
            time.sleep(1)
        report = self.call("iam", r, "get_credential_report").get("Content", b"")
        out["credential_report_rows"] = report.decode().count("\n")
        # user_no_admin_policy, user_no_direct_policies
        users, groups, policies = [], [], []
        try:
            for page in (
                self.client("iam", r)
                .get_paginator("get_account_authorization_details")
                .paginate(Filter=["User", "Group", "LocalManagedPolicy", "AWSManagedPolicy"])
            ):
                users += page.get("UserDetailList", [])
                groups += page.get("GroupDetailList", [])
                policies += page.get("Policies", [])
        except (ClientError, BotoCoreError) as exc:
            self.errors.append(f"iam:get_account_authorization_details: {exc}")
        out["users"], out["groups"], out["policies"] = len(users), len(groups), len(policies)
        self.put("iam", "global", out)

    def s3(self) -> None:
        r = "us-east-1"
        # account_public_access_block (and the account half of the bucket checks)
        account = self.call("sts", r, "get_caller_identity").get("Account")
        if account:
            self.put(
                "s3_account_pab",
                "global",
                self.call_quiet("s3control", r, "get_public_access_block", AccountId=account).get(
                    "PublicAccessBlockConfiguration"
                ),
            )
        buckets = self.call("s3", r, "list_buckets").get("Buckets", [])

        def bucket(b: dict[str, Any]) -> dict[str, Any]:
            name = b["Name"]
            region = b.get("BucketRegion")  # S3 answers each bucket's region in the listing
            if not region:
                region = self.call("s3", r, "get_bucket_location", Bucket=name).get("LocationConstraint") or r
            got: dict[str, Any] = {"region": region}
            for op in (
                "get_public_access_block",  # bucket_public_access_block, no_public_acl/policy
                "get_bucket_acl",  # bucket_no_public_acl, cloudtrail.bucket_not_public
                "get_bucket_policy",  # bucket_no_public_policy, bucket_tls_only
                "get_bucket_encryption",  # bucket_default_encryption
                "get_bucket_versioning",  # bucket_versioning
                "get_bucket_logging",  # bucket_access_logging
            ):
                got[op] = bool(self.call_quiet("s3", region, op, Bucket=name))
            return got

        self.put("s3", "global", dict(zip([b["Name"] for b in buckets], self.each(buckets, bucket), strict=True)))

    def call_quiet(self, service: str, region: str, op: str, **kw: Any) -> dict[str, Any]:
        """A call whose "not configured" error is an answer (no policy, no encryption, no PAB)."""
        try:
            return dict(getattr(self.client(service, region), op)(**kw))
        except ClientError:
            return {}
        except BotoCoreError as exc:
            self.errors.append(f"{service}:{op} {region}: {exc}")
            return {}

    # -- regional services --------------------------------------------------------------------------

    def ec2(self, r: str) -> None:
        out: dict[str, Any] = {}
        # instance_imdsv2, instance_no_public_ip, instance_antivirus (instances)
        out["instances"] = sum(len(x["Instances"]) for x in self.pages("ec2", r, "describe_instances", "Reservations"))
        # default_sg_restricts_all, sg_no_open_ssh/rdp/db_ports
        out["security_groups"] = len(self.pages("ec2", r, "describe_security_groups", "SecurityGroups"))
        # ebs_default_encryption
        out["ebs_default"] = self.call("ec2", r, "get_ebs_encryption_by_default").get("EbsEncryptionByDefault")
        # volume_encrypted, backup.plan_covers_region
        out["volumes"] = len(self.pages("ec2", r, "describe_volumes", "Volumes"))
        # ami_not_public
        out["images"] = len(self.pages("ec2", r, "describe_images", "Images", Owners=["self"]))
        # snapshot_not_public
        snaps = self.pages("ec2", r, "describe_snapshots", "Snapshots", OwnerIds=["self"])
        out["snapshots"] = self.each(
            snaps,
            lambda s: self.call(
                "ec2", r, "describe_snapshot_attribute", SnapshotId=s["SnapshotId"], Attribute="createVolumePermission"
            ).get("CreateVolumePermissions"),
        )
        # vpc_flow_logs
        out["vpcs"] = len(self.pages("ec2", r, "describe_vpcs", "Vpcs"))
        out["flow_logs"] = len(self.pages("ec2", r, "describe_flow_logs", "FlowLogs"))
        self.put("ec2", r, out)

    def ssm(self, r: str) -> None:
        # instance_antivirus: managed instances, then each one's installed applications
        managed = self.pages("ssm", r, "describe_instance_information", "InstanceInformationList")
        self.put(
            "ssm",
            r,
            self.each(
                managed,
                lambda i: len(
                    self.call(
                        "ssm", r, "list_inventory_entries", InstanceId=i["InstanceId"], TypeName="AWS:Application"
                    ).get("Entries", [])
                ),
            ),
        )

    def cloudtrail(self, r: str) -> None:
        # bucket_not_public (the bucket is read by s3()), cloudwatch_logs, kms_encryption,
        # log_file_validation, multi_region_enabled; each trail's status and selectors are read in the
        # region that owns it (shadow trails of other regions are listed but not read again)
        trails = self.call("cloudtrail", r, "describe_trails", includeShadowTrails=True).get("trailList", [])

        def trail(t: dict[str, Any]) -> dict[str, Any]:
            if t.get("HomeRegion", r) != r:
                return {"shadow": t["TrailARN"]}
            return {
                "status": self.call("cloudtrail", r, "get_trail_status", Name=t["TrailARN"]).get("IsLogging"),
                "selectors": bool(self.call("cloudtrail", r, "get_event_selectors", TrailName=t["TrailARN"])),
            }

        self.put("cloudtrail", r, self.each(trails, trail))

    def simple(self, r: str) -> None:
        """The checks that need one listing per region and nothing per item."""
        self.put("accessanalyzer", r, len(self.pages("accessanalyzer", r, "list_analyzers", "analyzers")))
        self.put(
            "config",
            r,
            [
                self.call("config", r, "describe_configuration_recorders").get("ConfigurationRecorders"),
                self.call("config", r, "describe_configuration_recorder_status").get("ConfigurationRecordersStatus"),
            ],
        )
        self.put("securityhub", r, bool(self.call_quiet("securityhub", r, "describe_hub")))
        self.put("rds", r, len(self.pages("rds", r, "describe_db_instances", "DBInstances")))
        self.put("efs", r, len(self.pages("efs", r, "describe_file_systems", "FileSystems")))
        self.put("ecr", r, len(self.pages("ecr", r, "describe_repositories", "repositories")))
        self.put("logs", r, len(self.pages("logs", r, "describe_log_groups", "logGroups")))
        self.put("secretsmanager", r, len(self.pages("secretsmanager", r, "list_secrets", "SecretList")))

    def per_item(self, r: str, service: str) -> None:
        """The checks that list a kind of resource, then read each one."""
        if service == "acm":
            arns = [
                c["CertificateArn"]
                for c in self.pages(
                    "acm", r, "list_certificates", "CertificateSummaryList", Includes={"keyTypes": ACM_KEY_TYPES}
                )
            ]
            got = self.each(
                arns, lambda a: self.call("acm", r, "describe_certificate", CertificateArn=a).get("Certificate")
            )
        elif service == "backup":
            plans = self.pages("backup", r, "list_backup_plans", "BackupPlansList")
            got = self.each(
                plans,
                lambda p: self.pages(
                    "backup", r, "list_backup_selections", "BackupSelectionsList", BackupPlanId=p["BackupPlanId"]
                ),
            )
            got.append(len(self.pages("backup", r, "list_protected_resources", "Results")))
        elif service == "dynamodb":
            names = self.pages("dynamodb", r, "list_tables", "TableNames")
            got = self.each(
                names,
                lambda n: [
                    self.call("dynamodb", r, "describe_table", TableName=n).get("Table", {}).get("TableArn"),
                    self.call("dynamodb", r, "describe_continuous_backups", TableName=n).get(
                        "ContinuousBackupsDescription"
                    ),
                ],
            )
        elif service == "eks":
            names = self.pages("eks", r, "list_clusters", "clusters")
            got = self.each(names, lambda n: bool(self.call("eks", r, "describe_cluster", name=n)))
        elif service == "elbv2":
            lbs = self.pages("elbv2", r, "describe_load_balancers", "LoadBalancers")
            got = self.each(
                lbs,
                lambda lb: len(
                    self.pages("elbv2", r, "describe_listeners", "Listeners", LoadBalancerArn=lb["LoadBalancerArn"])
                ),
            )
        elif service == "guardduty":
            ids = self.pages("guardduty", r, "list_detectors", "DetectorIds")
            got = self.each(ids, lambda d: self.call("guardduty", r, "get_detector", DetectorId=d).get("Status"))
        elif service == "kms":
            keys = self.pages("kms", r, "list_keys", "Keys")

            def key(k: dict[str, Any]) -> Any:
                meta = self.call("kms", r, "describe_key", KeyId=k["KeyId"]).get("KeyMetadata", {})
                if meta.get("KeyManager") != "CUSTOMER" or meta.get("KeySpec") != "SYMMETRIC_DEFAULT":
                    return None
                if meta.get("KeyState") != "Enabled" or meta.get("Origin") != "AWS_KMS":
                    return None
                return self.call("kms", r, "get_key_rotation_status", KeyId=k["KeyId"]).get("KeyRotationEnabled")

            got = self.each(keys, key)
        elif service == "lambda":
            fns = self.pages("lambda", r, "list_functions", "Functions")
            got = self.each(
                fns,
                lambda f: len(
                    self.pages(
                        "lambda", r, "list_function_url_configs", "FunctionUrlConfigs", FunctionName=f["FunctionName"]
                    )
                ),
            )
        elif service == "sns":
            topics = self.pages("sns", r, "list_topics", "Topics")
            got = self.each(
                topics,
                lambda t: (
                    self.call("sns", r, "get_topic_attributes", TopicArn=t["TopicArn"])
                    .get("Attributes", {})
                    .get("KmsMasterKeyId")
                ),
            )
        elif service == "sqs":
            urls = self.pages("sqs", r, "list_queues", "QueueUrls")
            got = self.each(
                urls,
                lambda u: self.call("sqs", r, "get_queue_attributes", QueueUrl=u, AttributeNames=["All"]).get(
                    "Attributes"
                ),
            )
        else:
            raise ValueError(service)
        self.put(service, r, got)

    def tasks(self) -> Iterator[Callable[[], None]]:
        yield self.iam
        yield self.s3
        for r in self.regions:
            yield lambda r=r: self.ec2(r)
            yield lambda r=r: self.ssm(r)
            yield lambda r=r: self.cloudtrail(r)
            yield lambda r=r: self.simple(r)
            for service in ("acm", "backup", "dynamodb", "eks", "elbv2", "guardduty", "kms", "lambda", "sns", "sqs"):
                yield lambda r=r, s=service: self.per_item(r, s)


_ACCOUNT_HOST = re.compile(r"^(https?://)\d{12}\.")


def _drop_account_host(request: Any, **_: Any) -> None:
    request.url = _ACCOUNT_HOST.sub(r"\1", request.url)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regions", required=True, help="comma-separated")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--output", required=True)
    args = ap.parse_args()
    floor = Floor(args.regions.split(","), args.workers)
    with ThreadPoolExecutor(max_workers=args.workers, thread_name_prefix="unit") as pool:
        for f in [pool.submit(t) for t in floor.tasks()]:
            f.result()
    floor.details.shutdown()
    with open(args.output, "w") as out:
        json.dump({"data": floor.data, "errors": floor.errors}, out, default=str)
    print(json.dumps({"buckets": len(floor.data.get("s3", {}).get("global", {})), "errors": len(floor.errors)}))


if __name__ == "__main__":
    main()

"""Seed a small but realistic AWS organisation into a moto server, and drift it over time.

Three accounts (management + production + staging), two regions, with the misconfigurations a
SOC 2 auditor asks about: console users without MFA, an admin access key, a public bucket, SSH
open to the internet, unencrypted volumes, servers with and without antivirus. Per account and
region, a hardened Windows server (CrowdStrike running, fully patched) and a legacy Linux server (no
antivirus, Patch Manager reporting missing, failed and reboot-pending patches): ``proxy_fixtures()``
hands their SSM inventory and patch states to the AwsProxy.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

__all__ = ["DemoOrg", "Drifter", "seed_organisation", "seed_servers"]

log = logging.getLogger("posture_demo")

REGIONS = ("us-east-1", "eu-west-1")
MEMBER_ROLE = "OrganizationAccountAccessRole"
AV_PRODUCTS = {
    "falcon": [{"Name": "Falcon Sensor", "Version": "7.10.17706.0", "Publisher": "CrowdStrike"}],
    "none": [{"Name": "nginx", "Version": "1.24.0", "Publisher": "nginx"}],
}


@dataclass
class DemoOrg:
    endpoint: str
    management: str = ""
    members: dict[str, str] = field(default_factory=dict)  # name -> account id
    inventory: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # instance id -> apps
    services: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # AWS:Service (Windows)
    windows_updates: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # AWS:WindowsUpdate
    patch_states: dict[str, dict[str, Any]] = field(default_factory=dict)  # Patch Manager, per instance
    platforms: dict[str, str] = field(default_factory=dict)  # instance id -> "Windows"

    @property
    def production(self) -> str:
        return self.members["production"]

    def session(self, account: str) -> boto3.Session:
        base = boto3.Session(region_name=REGIONS[0])
        if account == self.management:
            return base
        creds = base.client("sts", endpoint_url=self.endpoint).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{MEMBER_ROLE}", RoleSessionName="demo-seed"
        )["Credentials"]
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=REGIONS[0],
        )

    def client(self, account: str, service: str, region: str = REGIONS[0]) -> Any:
        return self.session(account).client(service, region_name=region, endpoint_url=self.endpoint)

    def proxy_fixtures(self) -> dict[str, Any]:
        """The SSM data moto lacks, as AwsProxy keyword arguments: ``AwsProxy(url, **org.proxy_fixtures())``."""
        return {
            "inventory": self.inventory,
            "services": self.services,
            "windows_updates": self.windows_updates,
            "patch_states": self.patch_states,
            "platforms": self.platforms,
        }


def seed_servers(org: DemoOrg, hardened: str, legacy: str, now: datetime | None = None) -> None:
    """SSM's view of two servers: ``hardened`` a patched Windows server with CrowdStrike running,
    ``legacy`` a Linux server without antivirus whose last patch scan found missing, failed and
    reboot-pending patches."""
    now = now or datetime.now(UTC)
    org.inventory[hardened] = AV_PRODUCTS["falcon"]
    org.inventory[legacy] = AV_PRODUCTS["none"]
    org.platforms[hardened] = "Windows"
    org.services[hardened] = [
        {
            "Name": "CSFalconService",
            "DisplayName": "CrowdStrike Falcon Sensor Service",
            "Status": "Running",
            "StartType": "Automatic",
            "ServiceType": "OWN_PROCESS",
        },
        {
            "Name": "WinDefend",
            "DisplayName": "Microsoft Defender Antivirus Service",
            "Status": "Running",
            "StartType": "Automatic",
            "ServiceType": "OWN_PROCESS",
        },
    ]
    org.windows_updates[hardened] = [
        {
            "HotFixId": "KB5039227",
            "Description": "Security Update",
            "InstalledTime": (now - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "InstalledBy": "NT AUTHORITY\\SYSTEM",
        }
    ]
    base = {
        "PatchGroup": "",
        "BaselineId": "pb-0123456789abcdef0",
        "OwnerInformation": "",
        "InstalledOtherCount": 3,
        "InstalledRejectedCount": 0,
        "NotApplicableCount": 120,
        "RebootOption": "RebootIfNeeded",
    }
    org.patch_states[hardened] = {
        **base,
        "InstalledCount": 42,
        "InstalledPendingRebootCount": 0,
        "MissingCount": 0,
        "FailedCount": 0,
        "Operation": "Install",
        "OperationStartTime": now - timedelta(days=1, minutes=20),
        "OperationEndTime": now - timedelta(days=1),
    }
    org.patch_states[legacy] = {
        **base,
        "InstalledCount": 310,
        "InstalledPendingRebootCount": 2,
        "MissingCount": 7,
        "FailedCount": 1,
        "Operation": "Scan",
        "OperationStartTime": now - timedelta(hours=6, minutes=5),
        "OperationEndTime": now - timedelta(hours=6),
    }


def _seed_iam(org: DemoOrg, account: str, strict: bool) -> None:
    iam = org.client(account, "iam")
    for name, mfa in (("alice", True), ("bob", False), ("carol", True)):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password="Demo-Passw0rd!-long")
        if mfa:
            _enable_mfa(iam, name)
    iam.create_user(UserName="ci-deploy")
    iam.create_access_key(UserName="ci-deploy")
    admin = iam.create_policy(
        PolicyName="deploy-everything",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    iam.attach_user_policy(UserName="ci-deploy", PolicyArn=admin["Policy"]["Arn"])
    if strict:
        iam.update_account_password_policy(
            MinimumPasswordLength=14,
            RequireSymbols=True,
            RequireNumbers=True,
            RequireUppercaseCharacters=True,
            RequireLowercaseCharacters=True,
            PasswordReusePrevention=24,
            MaxPasswordAge=90,
        )


def _enable_mfa(iam: Any, user: str) -> None:
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{user}-mfa")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName=user, SerialNumber=dev["SerialNumber"], AuthenticationCode1="123456", AuthenticationCode2="654321"
    )


def _public_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicRead",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
    )


def _seed_s3(org: DemoOrg, account: str, tag: str) -> None:
    for region in REGIONS:
        s3 = org.client(account, "s3", region)
        kwargs: dict[str, Any] = {}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        private = f"{tag}-customer-data-{region}"
        s3.create_bucket(Bucket=private, **kwargs)
        s3.put_public_access_block(
            Bucket=private,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_encryption(
            Bucket=private,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
            },
        )
        s3.put_bucket_versioning(Bucket=private, VersioningConfiguration={"Status": "Enabled"})
        if region == REGIONS[0]:
            public = f"{tag}-marketing-site"
            s3.create_bucket(Bucket=public)
            s3.put_bucket_policy(Bucket=public, Policy=_public_policy(public))


def _seed_ec2(org: DemoOrg, account: str, tag: str) -> None:
    for i, region in enumerate(REGIONS):
        ec2 = org.client(account, "ec2", region)
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        web = ec2.create_security_group(GroupName=f"{tag}-bastion", Description="bastion", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=web,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
        app = ec2.create_security_group(GroupName=f"{tag}-app", Description="app", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=app,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
            ],
        )
        ec2.create_volume(AvailabilityZone=f"{region}a", Size=20, Encrypted=(i == 0))
        ami = "ami-12c6146b" if region == "eu-west-1" else "ami-1234abcd"
        hardened = ec2.run_instances(
            ImageId=ami,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            SecurityGroupIds=[app],
            MetadataOptions={"HttpTokens": "required"},
        )
        legacy = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro", SecurityGroupIds=[web])
        seed_servers(org, hardened["Instances"][0]["InstanceId"], legacy["Instances"][0]["InstanceId"])


def _seed_logging(org: DemoOrg, account: str, tag: str) -> None:
    s3 = org.client(account, "s3")
    bucket = f"{tag}-cloudtrail"
    s3.create_bucket(Bucket=bucket)
    trail = org.client(account, "cloudtrail")
    trail.create_trail(
        Name=f"{tag}-org-trail", S3BucketName=bucket, IsMultiRegionTrail=True, EnableLogFileValidation=True
    )
    trail.start_logging(Name=f"{tag}-org-trail")
    kms = org.client(account, "kms")
    kms.create_key(Description=f"{tag} application key")
    logs = org.client(account, "logs")
    logs.create_log_group(logGroupName=f"/{tag}/app")
    logs.put_retention_policy(logGroupName=f"/{tag}/app", retentionInDays=400)
    logs.create_log_group(logGroupName=f"/{tag}/debug")
    logs.put_retention_policy(logGroupName=f"/{tag}/debug", retentionInDays=7)


def seed_organisation(endpoint: str) -> DemoOrg:
    """Create the organisation and every account's resources; returns where things are."""
    org = DemoOrg(endpoint=endpoint)
    orgs = boto3.client("organizations", region_name=REGIONS[0], endpoint_url=endpoint)
    orgs.create_organization(FeatureSet="ALL")
    org.management = boto3.client("sts", region_name=REGIONS[0], endpoint_url=endpoint).get_caller_identity()["Account"]
    for name in ("production", "staging"):
        status = orgs.create_account(AccountName=name, Email=f"aws+{name}@example.com")["CreateAccountStatus"]
        org.members[name] = status["AccountId"]
    _seed_iam(org, org.management, strict=True)
    _seed_logging(org, org.management, "mgmt")
    for name, account in org.members.items():
        tag = name[:4]
        _seed_iam(org, account, strict=(name == "production"))
        _seed_s3(org, account, f"{tag}-{account[-4:]}")
        _seed_ec2(org, account, tag)
    log.info("demo organisation seeded", extra={"management": org.management, "members": org.members})
    return org


class Drifter:
    """Applies one change per step, in a loop: break things, then fix them."""

    def __init__(self, org: DemoOrg) -> None:
        self.org = org
        self.step = 0
        acct = org.production
        self.bucket = f"prod-{acct[-4:]}-customer-data-{REGIONS[0]}"

    def _make_public(self) -> str:
        s3 = self.org.client(self.org.production, "s3")
        s3.delete_public_access_block(Bucket=self.bucket)
        s3.put_bucket_policy(Bucket=self.bucket, Policy=_public_policy(self.bucket))
        return f"bucket {self.bucket} made public"

    def _make_private(self) -> str:
        s3 = self.org.client(self.org.production, "s3")
        s3.delete_bucket_policy(Bucket=self.bucket)
        s3.put_public_access_block(
            Bucket=self.bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        return f"bucket {self.bucket} made private again"

    def _remove_mfa(self) -> str:
        iam = self.org.client(self.org.production, "iam")
        for dev in iam.list_mfa_devices(UserName="alice")["MFADevices"]:
            iam.deactivate_mfa_device(UserName="alice", SerialNumber=dev["SerialNumber"])
            iam.delete_virtual_mfa_device(SerialNumber=dev["SerialNumber"])
        return "MFA removed from user alice"

    def _restore_mfa(self) -> str:
        _enable_mfa(self.org.client(self.org.production, "iam"), "alice")
        return "MFA restored for user alice"

    def apply_next(self) -> str:
        steps = (self._make_public, self._remove_mfa, self._make_private, self._restore_mfa)
        what = steps[self.step % len(steps)]()
        self.step += 1
        log.info("demo drift applied", extra={"change": what})
        return what

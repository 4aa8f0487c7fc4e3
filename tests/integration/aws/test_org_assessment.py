"""End to end: a seeded organisation (management + 2 members, 2 regions) with known
misconfigurations, collected by the real collector through the awsproxy and assessed by every AWS
check. For each check the set of failing resource ids is written down below and must match
exactly (no missed failure, no false failure), and every check must have a passing resource unless
moto cannot represent one (PASS_IMPOSSIBLE_IN_MOTO says why)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from awstest_helpers import context, member_session, seeder
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from posture_demo.awsproxy import AwsProxy

from agent.evaluate import evaluate
from agent.models import Finding, Status
from agent.registry import load_checks
from collectors.aws import collect
from collectors.aws.config import AwsSource

MGMT = "123456789012"
R1, R2 = "us-east-1", "eu-west-1"
ROLE = "OrganizationAccountAccessRole"
AV = [{"Name": "Falcon Sensor", "Version": "7.10.17706.0", "Publisher": "CrowdStrike"}]
NO_AV = [{"Name": "nginx", "Version": "1.24.0", "Publisher": "nginx"}]
LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
READ_ONLY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)
PAB_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}

# Checks with no passing resource in this test, and why. Their failing sets are still exact and
# their passing verdicts are covered by unit fixtures (tests/unit/checks/aws).
PASS_IMPOSSIBLE_IN_MOTO: dict[str, str] = {
    "aws.iam.root_mfa_enabled": "moto's GetAccountSummary always answers AccountMFAEnabled=0 (root MFA "
    "cannot be enabled through the API, in moto or AWS)",
    "aws.accessanalyzer.enabled": "moto has no IAM Access Analyzer; the awsproxy answers ListAnalyzers "
    "with an empty list",
    "aws.backup.plan_covers_region": "moto has no ListBackupSelections/ListProtectedResources; the "
    "awsproxy answers them empty, so no plan ever selects a resource",
}


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


def _certificate(days: int) -> tuple[bytes, bytes]:
    """A self-signed certificate valid for ``days`` (ACM import: moto reads NotAfter from it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"d{days}.example.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"d{days}.example.com")]), False)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


@dataclass
class Org:
    """What was seeded: ids the expected sets are built from."""

    members: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # seeded name -> resource id (ARN)
    default_vpcs: dict[tuple[str, str], str] = field(default_factory=dict)  # (account, region) -> ARN
    default_sgs: dict[tuple[str, str], str] = field(default_factory=dict)
    inventory: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    ping_status: dict[str, str] = field(default_factory=dict)  # instance id -> SSM PingStatus (default Online)
    moto_ebs_keys: set[str] = field(default_factory=set)  # see the end of seed()

    @property
    def prod(self) -> str:
        return self.members[0]

    @property
    def stage(self) -> str:
        return self.members[1]

    @property
    def accounts(self) -> list[str]:
        return [MGMT, *self.members]


Client = Callable[..., Any]


def _clients(moto: str, account: str) -> Client:
    return seeder(moto) if account == MGMT else seeder(moto, member_session(moto, account))


def _ec2_arn(region: str, account: str, kind: str, rid: str) -> str:
    return f"arn:aws:ec2:{region}:{account}:{kind}/{rid}"


def _defaults(org: Org, c: Client, account: str) -> None:
    """The default VPC and its default security group moto creates in every account and region."""
    for region in (R1, R2):
        ec2 = c("ec2", region)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        sg = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["default"]}, {"Name": "vpc-id", "Values": [vpc]}]
        )["SecurityGroups"][0]
        org.default_vpcs[(account, region)] = _ec2_arn(region, account, "vpc", vpc)
        org.default_sgs[(account, region)] = _ec2_arn(region, account, "security-group", sg["GroupId"])
        org.ids[f"{account}/{region}/default-vpc-id"] = vpc
        org.ids[f"{account}/{region}/default-sg-id"] = sg["GroupId"]


def _iam(org: Org, c: Client, account: str, tag: str) -> None:
    iam = c("iam")
    arn = f"arn:aws:iam::{account}:user/"
    # console user with MFA, no policies: passes everything
    iam.create_user(UserName=f"{tag}-alice")
    iam.create_login_profile(UserName=f"{tag}-alice", Password="Long-Passw0rd!-here")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{tag}-alice-mfa")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName=f"{tag}-alice",
        SerialNumber=dev["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.create_group(GroupName=f"{tag}-readers")
    iam.put_group_policy(GroupName=f"{tag}-readers", PolicyName="read", PolicyDocument=READ_ONLY)
    iam.add_user_to_group(GroupName=f"{tag}-readers", UserName=f"{tag}-alice")
    # customer managed policies that pass the policy check: a narrow one attached, an admin one attached
    # to nothing, and one that was admin until a read-only version became its default (attached)
    policy = f"arn:aws:iam::{account}:policy/"
    iam.create_policy(PolicyName=f"{tag}-read", PolicyDocument=READ_ONLY)
    iam.attach_group_policy(GroupName=f"{tag}-readers", PolicyArn=policy + f"{tag}-read")
    iam.create_policy(PolicyName=f"{tag}-spare-admin", PolicyDocument=ADMIN)
    iam.create_policy(PolicyName=f"{tag}-narrowed", PolicyDocument=ADMIN)
    iam.create_policy_version(PolicyArn=policy + f"{tag}-narrowed", PolicyDocument=READ_ONLY, SetAsDefault=True)
    iam.attach_group_policy(GroupName=f"{tag}-readers", PolicyArn=policy + f"{tag}-narrowed")
    for name in ("read", "spare-admin", "narrowed"):
        org.ids[f"{account}/policy-{name}"] = policy + f"{tag}-{name}"
    # console user without MFA
    iam.create_user(UserName=f"{tag}-bob")
    iam.create_login_profile(UserName=f"{tag}-bob", Password="Long-Passw0rd!-here")
    org.ids[f"{account}/bob"] = arn + f"{tag}-bob"
    org.ids[f"{account}/alice"] = arn + f"{tag}-alice"
    if account == MGMT:
        return
    # members: a CI user with two keys and an admin policy attached directly, and a user who is
    # admin through a group
    iam.create_user(UserName=f"{tag}-ci")
    iam.create_access_key(UserName=f"{tag}-ci")
    iam.create_access_key(UserName=f"{tag}-ci")
    pol = iam.create_policy(PolicyName=f"{tag}-everything", PolicyDocument=ADMIN)["Policy"]["Arn"]
    iam.attach_user_policy(UserName=f"{tag}-ci", PolicyArn=pol)
    iam.create_user(UserName=f"{tag}-ops")
    iam.create_access_key(UserName=f"{tag}-ops")
    iam.create_group(GroupName=f"{tag}-admins")
    iam.put_group_policy(GroupName=f"{tag}-admins", PolicyName="all", PolicyDocument=ADMIN)
    iam.add_user_to_group(GroupName=f"{tag}-admins", UserName=f"{tag}-ops")
    org.ids[f"{account}/ci"] = arn + f"{tag}-ci"
    org.ids[f"{account}/ops"] = arn + f"{tag}-ops"
    # customer managed * on * policies attached to a group (whose member, ops, is admin already) and to
    # a role (no user holds it: only the policy check sees it)
    iam.create_policy(PolicyName=f"{tag}-group-admin", PolicyDocument=ADMIN)
    iam.attach_group_policy(GroupName=f"{tag}-admins", PolicyArn=policy + f"{tag}-group-admin")
    iam.create_role(RoleName=f"{tag}-breakglass", AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam.create_policy(PolicyName=f"{tag}-role-admin", PolicyDocument=ADMIN)
    iam.attach_role_policy(RoleName=f"{tag}-breakglass", PolicyArn=policy + f"{tag}-role-admin")
    org.ids[f"{account}/policy-everything"] = pol
    for name in ("group-admin", "role-admin"):
        org.ids[f"{account}/policy-{name}"] = policy + f"{tag}-{name}"


def _tls_policy(bucket: str) -> str:
    # Principal as {"AWS": "*"}: moto's PutBucketLogging reads every statement's Principal as a dict;
    # the second statement lets S3 server access logging write (moto checks for it).
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                },
            ],
        }
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


def _good_bucket(c: Client, name: str, region: str = R1) -> str:
    s3 = c("s3", region)
    kwargs = {} if region == R1 else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **kwargs)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=PAB_ALL)
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_policy(Bucket=name, Policy=_tls_policy(name))
    s3.put_bucket_logging(
        Bucket=name, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": name, "TargetPrefix": "access/"}}
    )
    return f"arn:aws:s3:::{name}"


def _mgmt(org: Org, c: Client) -> None:
    """Management account: the well-configured one (the passing side of most account checks)."""
    a = MGMT
    iam = c("iam")
    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        PasswordReusePrevention=24,
        MaxPasswordAge=90,
    )
    c("s3control").put_public_access_block(AccountId=a, PublicAccessBlockConfiguration=PAB_ALL)
    org.ids["mgmt-logs"] = _good_bucket(c, f"mgmt-logs-{a}")
    org.ids["mgmt-eu"] = _good_bucket(c, f"mgmt-eu-{a}", R2)
    # settings on in us-east-1 (and EBS default encryption in both regions)
    c("guardduty").create_detector(Enable=True)
    role = iam.create_role(RoleName="config", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    cfg = c("config")
    cfg.put_configuration_recorder(
        ConfigurationRecorder={"name": "default", "roleARN": role, "recordingGroup": {"allSupported": True}}
    )
    cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": f"mgmt-logs-{a}"})
    cfg.start_configuration_recorder(ConfigurationRecorderName="default")
    c("securityhub").enable_security_hub()
    for region in (R1, R2):
        c("ec2", region).enable_ebs_encryption_by_default()
    # the default SG of us-east-1 with no rules; a flow log on its default VPC
    ec2 = c("ec2")
    sg_id = org.ids[f"{a}/{R1}/default-sg-id"]
    sg = ec2.describe_security_groups(GroupIds=[sg_id])["SecurityGroups"][0]
    if sg["IpPermissionsEgress"]:
        ec2.revoke_security_group_egress(GroupId=sg_id, IpPermissions=sg["IpPermissionsEgress"])
    if sg["IpPermissions"]:
        ec2.revoke_security_group_ingress(GroupId=sg_id, IpPermissions=sg["IpPermissions"])
    ec2.create_flow_logs(
        ResourceIds=[org.ids[f"{a}/{R1}/default-vpc-id"]],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::mgmt-logs-{a}",
    )
    # a good trail: multi-region, validated, KMS, CloudWatch Logs
    key = c("kms").create_key(Description="trail")["KeyMetadata"]
    c("kms").enable_key_rotation(KeyId=key["KeyId"])
    org.ids["trail-key"] = key["Arn"]
    logs = c("logs")
    logs.create_log_group(logGroupName="trail")  # never expires: passes retention
    org.ids["lg-trail"] = f"arn:aws:logs:{R1}:{a}:log-group:trail"
    ct = c("cloudtrail")
    org.ids["mgmt-trail"] = ct.create_trail(
        Name="org-trail",
        S3BucketName=f"mgmt-logs-{a}",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId=key["Arn"],
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{R1}:{a}:log-group:trail:*",
        CloudWatchLogsRoleArn=role,
    )["TrailARN"]
    ct.start_logging(Name="org-trail")
    # AWS answers GetEventSelectors of a new trail with the default "All management events"
    # selector; moto answers an empty list, so the default is written explicitly.
    ct.put_event_selectors(
        TrailName="org-trail",
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}],
    )


def _prod(org: Org, c: Client, role: str) -> None:
    """First member: most regional resources, one good and one bad of each kind."""
    a = org.prod
    c("iam").update_account_password_policy(MinimumPasswordLength=8)  # weak
    # buckets: a public one (policy + ACL) that is also the log bucket of a bad trail
    s3 = c("s3")
    public = f"prod-public-{a}"
    s3.create_bucket(Bucket=public)
    s3.put_bucket_policy(Bucket=public, Policy=_public_policy(public))
    s3.put_bucket_acl(Bucket=public, ACL="public-read")
    org.ids["prod-public"] = f"arn:aws:s3:::{public}"
    org.ids["prod-good"] = _good_bucket(c, f"prod-good-{a}", R2)
    ct = c("cloudtrail")
    org.ids["prod-trail"] = ct.create_trail(Name="local-trail", S3BucketName=public)["TrailARN"]
    ct.start_logging(Name="local-trail")
    # AWS Config recorder that is not recording and records only some types
    cfg = c("config")
    cfg.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "partial",
            "roleARN": role,
            "recordingGroup": {"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]},
        }
    )
    c("ec2", R2).enable_ebs_encryption_by_default()
    for region in (R1, R2):
        _prod_ec2(org, c, region)
    _prod_services(org, c, role)


def _prod_ec2(org: Org, c: Client, region: str) -> None:
    a, ec2 = org.prod, c("ec2", region)
    vpc = org.ids[f"{a}/{region}/default-vpc-id"]
    r = region[:2]

    def sg(name: str, port: int | None) -> str:
        gid = ec2.create_security_group(GroupName=f"{r}-{name}", Description=name, VpcId=vpc)["GroupId"]
        if port is not None:
            ec2.authorize_security_group_ingress(
                GroupId=gid,
                IpPermissions=[
                    {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
                ],
            )
        org.ids[f"{r}-sg-{name}"] = _ec2_arn(region, a, "security-group", gid)
        return gid

    web = sg("web", 443)
    sg("ssh", 22)
    sg("rdp", 3389)
    sg("db", 5432)
    ec2.authorize_security_group_ingress(
        GroupId=web,
        IpPermissions=[
            {  # private range: fine
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            }
        ],
    )
    ami = "ami-12c6146b" if region == R2 else "ami-1234abcd"
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    # hardened: IMDSv2, no public IP, antivirus
    good = ec2.run_instances(
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        MetadataOptions={"HttpTokens": "required"},
        NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": False, "Groups": [web]}],
    )["Instances"][0]
    # legacy: IMDSv1, public IP, no antivirus
    bad = ec2.run_instances(
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        MetadataOptions={"HttpTokens": "optional"},
        NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": True, "Groups": [web]}],
    )["Instances"][0]
    org.inventory[good["InstanceId"]] = AV
    org.inventory[bad["InstanceId"]] = NO_AV
    org.ids[f"{r}-i-good"] = _ec2_arn(region, a, "instance", good["InstanceId"])
    org.ids[f"{r}-i-bad"] = _ec2_arn(region, a, "instance", bad["InstanceId"])
    instances = [(good, "good"), (bad, "bad")]
    if region == R1:
        # hardened but not managed by SSM (not in the inventory fixture, so the proxy does not list it),
        # and a stopped one, not managed either
        for name in ("unmanaged", "stopped"):
            inst = ec2.run_instances(
                ImageId=ami,
                MinCount=1,
                MaxCount=1,
                InstanceType="t3.micro",
                MetadataOptions={"HttpTokens": "required"},
                NetworkInterfaces=[
                    {"DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": False, "Groups": [web]}
                ],
            )["Instances"][0]
            org.ids[f"{r}-i-{name}"] = _ec2_arn(region, a, "instance", inst["InstanceId"])
            instances.append((inst, name))
        ec2.stop_instances(InstanceIds=[instances[-1][0]["InstanceId"]])
    else:
        # managed, but its SSM agent stopped reporting (the proxy lists it with PingStatus ConnectionLost)
        org.ping_status[bad["InstanceId"]] = "ConnectionLost"
    # moto gives each instance an unencrypted root volume (EBS default encryption is only on in
    # eu-west-1, where moto still creates it unencrypted; see the volume set below)
    for inst, name in instances:
        desc = ec2.describe_instances(InstanceIds=[inst["InstanceId"]])["Reservations"][0]["Instances"][0]
        for bdm in desc.get("BlockDeviceMappings", []):
            vid = bdm["Ebs"]["VolumeId"]
            org.ids[f"{r}-root-{name}"] = _ec2_arn(region, a, "volume", vid)
            org.ids[f"{r}-root-{name}-encrypted"] = str(
                ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]["Encrypted"]
            )
    enc = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8, Encrypted=True)["VolumeId"]
    plain = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8, Encrypted=False)["VolumeId"]
    org.ids[f"{r}-vol-enc"] = _ec2_arn(region, a, "volume", enc)
    org.ids[f"{r}-vol-plain"] = _ec2_arn(region, a, "volume", plain)
    org.ids[f"{r}-vol-plain-encrypted"] = str(ec2.describe_volumes(VolumeIds=[plain])["Volumes"][0]["Encrypted"])
    if region != R1:
        return
    private = ec2.create_snapshot(VolumeId=enc)["SnapshotId"]
    public = ec2.create_snapshot(VolumeId=plain)["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=public, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
    )
    org.ids["snap-private"] = _ec2_arn(region, a, "snapshot", private)
    org.ids["snap-public"] = _ec2_arn(region, a, "snapshot", public)
    img_private = ec2.create_image(InstanceId=good["InstanceId"], Name="golden")["ImageId"]
    img_public = ec2.create_image(InstanceId=bad["InstanceId"], Name="shared")["ImageId"]
    ec2.modify_image_attribute(ImageId=img_public, LaunchPermission={"Add": [{"Group": "all"}]})
    org.ids["ami-private"] = _ec2_arn(region, a, "image", img_private)
    org.ids["ami-public"] = _ec2_arn(region, a, "image", img_public)


def _prod_services(org: Org, c: Client, role: str) -> None:
    a = org.prod
    ec2 = c("ec2")
    vpc = org.ids[f"{a}/{R1}/default-vpc-id"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][
        :2
    ]
    rds = c("rds")
    org.ids["db-good"] = rds.create_db_instance(
        DBInstanceIdentifier="db-good",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="u",
        MasterUserPassword="password123",
        AllocatedStorage=20,
        StorageEncrypted=True,
        PubliclyAccessible=False,
        BackupRetentionPeriod=14,
        MultiAZ=True,
        DeletionProtection=True,
    )["DBInstance"]["DBInstanceArn"]
    org.ids["db-bad"] = rds.create_db_instance(
        DBInstanceIdentifier="db-bad",
        DBInstanceClass="db.t3.micro",
        Engine="mysql",
        MasterUsername="u",
        MasterUserPassword="password123",
        AllocatedStorage=20,
        StorageEncrypted=False,
        PubliclyAccessible=True,
        BackupRetentionPeriod=0,
        MultiAZ=False,
        DeletionProtection=False,
    )["DBInstance"]["DBInstanceArn"]
    kms = c("kms")
    org.ids["key-rotating"] = kms.create_key(Description="rotating")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=org.ids["key-rotating"])
    org.ids["key-static"] = kms.create_key(Description="static")["KeyMetadata"]["Arn"]
    # ACM: imported certificates, one expiring in 10 days, one valid for a year
    acm = c("acm")
    for days, name in ((10, "cert-expiring"), (365, "cert-valid")):
        cert, key = _certificate(days)
        org.ids[name] = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    elb = c("elbv2")
    tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    forward = [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
    redirect = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]
    cert = [{"CertificateArn": org.ids["cert-valid"]}]

    def lb(name: str, listeners: list[dict[str, Any]]) -> None:
        arn = elb.create_load_balancer(Name=name, Subnets=subnets, Scheme="internet-facing")["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        for spec in listeners:
            elb.create_listener(LoadBalancerArn=arn, **spec)
        org.ids[name] = arn

    lb("lb-plain", [{"Protocol": "HTTP", "Port": 80, "DefaultActions": forward}])
    lb(
        "lb-modern",
        [
            {
                "Protocol": "HTTPS",
                "Port": 443,
                "DefaultActions": forward,
                "Certificates": cert,
                "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            },
            {"Protocol": "HTTP", "Port": 80, "DefaultActions": redirect},
        ],
    )
    lb(
        "lb-old-tls",
        [
            {
                "Protocol": "HTTPS",
                "Port": 443,
                "DefaultActions": forward,
                "Certificates": cert,
                "SslPolicy": "ELBSecurityPolicy-2016-08",
            }
        ],
    )
    logs = c("logs")
    for name, days in (("app", 400), ("debug", 7)):
        logs.create_log_group(logGroupName=name)
        logs.put_retention_policy(logGroupName=name, retentionInDays=days)
        org.ids[f"lg-{name}"] = f"arn:aws:logs:{R1}:{a}:log-group:{name}"
    lam = c("lambda")
    for name, runtime, auth in (("fn-good", "python3.12", "AWS_IAM"), ("fn-bad", "python3.8", "NONE")):
        org.ids[name] = lam.create_function(
            FunctionName=name, Runtime=runtime, Role=role, Handler="index.handler", Code={"ZipFile": _zip()}
        )["FunctionArn"]
        lam.create_function_url_config(FunctionName=name, AuthType=auth)
    sm = c("secretsmanager")
    org.ids["secret-rotated"] = sm.create_secret(Name="rotated", SecretString="x")["ARN"]
    sm.rotate_secret(SecretId="rotated", RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    org.ids["secret-static"] = sm.create_secret(Name="static", SecretString="x")["ARN"]
    ddb = c("dynamodb")
    for name in ("orders", "scratch"):
        org.ids[f"table-{name}"] = ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )["TableDescription"]["TableArn"]
    ddb.update_continuous_backups(
        TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    efs = c("efs")
    org.ids["efs-enc"] = efs.create_file_system(CreationToken="enc", Encrypted=True)["FileSystemArn"]
    org.ids["efs-plain"] = efs.create_file_system(CreationToken="plain", Encrypted=False)["FileSystemArn"]
    sns = c("sns")
    org.ids["topic-enc"] = sns.create_topic(Name="alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    org.ids["topic-plain"] = sns.create_topic(Name="events")["TopicArn"]
    sqs = c("sqs")
    sqs.create_queue(QueueName="jobs", Attributes={"SqsManagedSseEnabled": "true"})
    sqs.create_queue(QueueName="plain", Attributes={"SqsManagedSseEnabled": "false"})
    org.ids["queue-enc"] = f"arn:aws:sqs:{R1}:{a}:jobs"
    org.ids["queue-plain"] = f"arn:aws:sqs:{R1}:{a}:plain"
    eks = c("eks")
    org.ids["eks-private"] = eks.create_cluster(
        name="private",
        roleArn=role,
        resourcesVpcConfig={"subnetIds": subnets, "endpointPublicAccess": False, "endpointPrivateAccess": True},
    )["cluster"]["arn"]
    org.ids["eks-public"] = eks.create_cluster(
        name="public", roleArn=role, resourcesVpcConfig={"subnetIds": subnets, "endpointPublicAccess": True}
    )["cluster"]["arn"]
    ecr = c("ecr")
    for name, scan in (("app", True), ("legacy", False)):
        org.ids[f"repo-{name}"] = ecr.create_repository(
            repositoryName=name, imageScanningConfiguration={"scanOnPush": scan}
        )["repository"]["repositoryArn"]


def seed(moto: str) -> Org:
    org = Org()
    orgs = seeder(moto)("organizations")
    orgs.create_organization(FeatureSet="ALL")
    for name in ("production", "staging"):
        status = orgs.create_account(AccountName=name, Email=f"aws+{name}@example.com")
        org.members.append(status["CreateAccountStatus"]["AccountId"])
    clients = {a: _clients(moto, a) for a in org.accounts}
    for account, tag in zip(org.accounts, ("mgmt", "prod", "stage"), strict=True):
        _defaults(org, clients[account], account)
        _iam(org, clients[account], account, tag)
    _mgmt(org, clients[MGMT])
    prod_role = clients[org.prod]("iam").create_role(RoleName="app", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"][
        "Arn"
    ]
    _prod(org, clients[org.prod], prod_role)
    # staging: nothing configured but one unencrypted bucket in eu-west-1 (defaults otherwise)
    s3 = clients[org.stage]("s3", R2)
    s3.create_bucket(Bucket=f"stage-scratch-{org.stage}", CreateBucketConfiguration={"LocationConstraint": R2})
    org.ids["stage-scratch"] = f"arn:aws:s3:::stage-scratch-{org.stage}"
    # moto creates the AWS managed key alias/aws/ebs (first encrypted volume of a region) with
    # KeyManager=CUSTOMER and rotation off, so to the collector it is a customer key (in AWS it
    # is AWS managed and filtered out): record those keys so the expectation can name them.
    for account in org.accounts:
        for region in (R1, R2):
            try:
                key = clients[account]("kms", region).describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
            except clients[account]("kms", region).exceptions.NotFoundException:
                continue
            assert key["KeyManager"] == "CUSTOMER", "moto fixed: drop moto_ebs_keys from the expectation"
            org.moto_ebs_keys.add(key["Arn"])
    return org


def expected_failures(o: Org) -> dict[str, set[str]]:
    """Check id -> the resource ids that must fail, written down from what seed() created."""
    i = o.ids
    acct = lambda a: f"arn:aws:iam::{a}:root"  # noqa: E731
    settings = lambda svc, a, r: f"arn:aws:{svc}:{r}:{a}:settings"  # noqa: E731
    every = [(a, r) for a in o.accounts for r in (R1, R2)]
    prod_buckets_bad = {i["prod-public"]}
    # Volumes that are not encrypted: the explicitly plain ones and moto's root volumes (moto does
    # not apply EBS default encryption to them: recorded at seed time and asserted here).
    seeded_roots = [f"{r}-root-{n}" for r in ("us", "eu") for n in ("good", "bad")] + [
        "us-root-unmanaged",
        "us-root-stopped",
    ]
    root_volumes = {i[k] for k in seeded_roots}
    assert {i[f"{k}-encrypted"] for k in seeded_roots} == {"False"}
    return {
        # account-wide
        "aws.iam.root_mfa_enabled": {acct(a) for a in o.accounts},  # moto: AccountMFAEnabled=0
        "aws.iam.root_access_keys_absent": set(),  # moto: AccountAccessKeysPresent=0 (no fail case)
        "aws.iam.password_policy_strong": {acct(o.prod), acct(o.stage)},
        "aws.cloudtrail.multi_region_enabled": {acct(o.prod), acct(o.stage)},
        # IAM users (fresh in moto: time-based checks cannot fail; see NO_FAIL_CASE)
        "aws.iam.console_user_mfa": {i[f"{a}/bob"] for a in o.accounts},
        "aws.iam.user_unused_credentials_45d": set(),
        "aws.iam.user_inactive_90d": set(),
        "aws.iam.access_key_rotated_90d": set(),
        "aws.iam.single_active_access_key": {i[f"{a}/ci"] for a in o.members},
        "aws.iam.user_no_admin_policy": {i[f"{a}/{u}"] for a in o.members for u in ("ci", "ops")},
        "aws.iam.user_no_direct_policies": {i[f"{a}/ci"] for a in o.members},
        # customer managed * on * policies attached to a user (ci), a group (admins) and a role (breakglass);
        # the unattached one and the one whose default version is now read-only pass
        "aws.iam.policy_no_admin_attached": {
            i[f"{a}/policy-{p}"] for a in o.members for p in ("everything", "group-admin", "role-admin")
        },
        # S3
        "aws.s3.account_public_access_block": {f"arn:aws:s3::{a}:account" for a in o.members},
        "aws.s3.bucket_public_access_block": prod_buckets_bad | {i["stage-scratch"]},
        "aws.s3.bucket_default_encryption": prod_buckets_bad | {i["stage-scratch"]},
        "aws.s3.bucket_versioning": prod_buckets_bad | {i["stage-scratch"]},
        "aws.s3.bucket_tls_only": prod_buckets_bad | {i["stage-scratch"]},
        "aws.s3.bucket_access_logging": prod_buckets_bad | {i["stage-scratch"]},
        "aws.s3.bucket_no_public_policy": prod_buckets_bad,
        "aws.s3.bucket_no_public_acl": prod_buckets_bad,
        # per-region settings: on only where seeded
        "aws.accessanalyzer.enabled": {settings("accessanalyzer", a, r) for a, r in every},
        "aws.guardduty.enabled": {settings("guardduty", a, r) for a, r in every} - {settings("guardduty", MGMT, R1)},
        "aws.config.recorder_enabled": {settings("config", a, r) for a, r in every} - {settings("config", MGMT, R1)},
        "aws.securityhub.enabled": {settings("securityhub", a, r) for a, r in every}
        - {settings("securityhub", MGMT, R1)},
        "aws.ec2.ebs_default_encryption": {settings("ec2", a, r) for a, r in every}
        - {settings("ec2", MGMT, R1), settings("ec2", MGMT, R2), settings("ec2", o.prod, R2)},
        # regions with volumes/databases/tables/file systems (only production's) and no plan
        "aws.backup.plan_covers_region": {settings("backup", o.prod, R1), settings("backup", o.prod, R2)},
        # CloudTrail
        "aws.cloudtrail.bucket_not_public": {i["prod-trail"]},
        "aws.cloudtrail.cloudwatch_logs": {i["prod-trail"]},
        "aws.cloudtrail.kms_encryption": {i["prod-trail"]},
        "aws.cloudtrail.log_file_validation": {i["prod-trail"]},
        # EC2
        "aws.ec2.ami_not_public": {i["ami-public"]},
        "aws.ec2.default_sg_restricts_all": set(o.default_sgs.values()) - {o.default_sgs[(MGMT, R1)]},
        "aws.ec2.instance_antivirus": {i["us-i-bad"], i["eu-i-bad"]},
        # not listed by DescribeInstanceInformation, or listed with its agent ConnectionLost (the stopped
        # one does not apply; see EXPECTED_ERRORS for the antivirus check of the unmanaged one)
        "aws.ec2.instance_ssm_managed": {i["us-i-unmanaged"], i["eu-i-bad"]},
        "aws.ec2.instance_imdsv2": {i["us-i-bad"], i["eu-i-bad"]},
        "aws.ec2.instance_no_public_ip": {i["us-i-bad"], i["eu-i-bad"]},
        "aws.ec2.sg_no_open_db_ports": {i["us-sg-db"], i["eu-sg-db"]},
        "aws.ec2.sg_no_open_rdp": {i["us-sg-rdp"], i["eu-sg-rdp"]},
        "aws.ec2.sg_no_open_ssh": {i["us-sg-ssh"], i["eu-sg-ssh"]},
        "aws.ec2.snapshot_not_public": {i["snap-public"]},
        "aws.ec2.volume_encrypted": root_volumes | {i["us-vol-plain"], i["eu-vol-plain"]},
        "aws.ec2.vpc_flow_logs": set(o.default_vpcs.values()) - {o.default_vpcs[(MGMT, R1)]},
        # data and compute services (production, us-east-1)
        "aws.rds.backup_retention_7d": {i["db-bad"]},
        "aws.rds.deletion_protection": {i["db-bad"]},
        "aws.rds.instance_encrypted": {i["db-bad"]},
        "aws.rds.instance_not_public": {i["db-bad"]},
        "aws.rds.multi_az": {i["db-bad"]},
        "aws.kms.key_rotation": {i["key-static"]} | o.moto_ebs_keys,  # moto artefact, see seed()
        "aws.acm.certificate_not_expiring": {i["cert-expiring"]},
        "aws.elbv2.listener_tls": {i["lb-plain"]},
        "aws.elbv2.tls_policy_current": {i["lb-old-tls"]},
        "aws.logs.log_group_retention": {i["lg-debug"]},
        "aws.lambda.function_url_auth": {i["fn-bad"]},
        "aws.lambda.runtime_supported": {i["fn-bad"]},
        "aws.secretsmanager.rotation_enabled": {i["secret-static"]},
        "aws.dynamodb.pitr_enabled": {i["table-scratch"]},
        "aws.efs.encrypted": {i["efs-plain"]},
        "aws.sns.topic_encrypted": {i["topic-plain"]},
        "aws.sqs.queue_encrypted": {i["queue-plain"]},
        "aws.eks.endpoint_not_public": {i["eks-public"]},
        "aws.ecr.scan_on_push": {i["repo-legacy"]},
    }


# Checks whose failing state moto cannot produce (their expected failing set above is empty):
# credentials are minutes old, and moto never reports root access keys.
NO_FAIL_CASE = {
    "aws.iam.root_access_keys_absent",
    "aws.iam.user_unused_credentials_45d",
    "aws.iam.user_inactive_90d",
    "aws.iam.access_key_rotated_90d",
}


@pytest.fixture(scope="module")
def assessed(module_aws: str) -> Iterator[tuple[Org, list[Finding]]]:
    org = seed(module_aws)
    checks = list(load_checks(["checks.aws"]).values())
    with AwsProxy(module_aws, inventory=org.inventory, ping_status=org.ping_status) as proxy:
        source = AwsSource(
            name="org", provider="aws", organization=True, role_name=ROLE, regions=[R1, R2], endpoint_url=proxy.url
        )
        snapshots = collect(source, context())
    assert {s.account for s in snapshots} == set(org.accounts)
    for snap in snapshots:
        assert snap.errors == (), [e.summary() for e in snap.errors]
    findings = [f for snap in snapshots for f in evaluate(snap, checks)]
    yield org, findings


def test_every_aws_check_has_an_expectation(assessed: tuple[Org, list[Finding]]) -> None:
    org, _ = assessed
    ids = set(load_checks(["checks.aws"]))
    assert set(expected_failures(org)) == ids
    assert set(PASS_IMPOSSIBLE_IN_MOTO) <= ids and ids >= NO_FAIL_CASE


def expected_errors(o: Org) -> set[tuple[str, str]]:
    """(check id, resource id) of the only errors: the antivirus state of an instance SSM does not manage
    is unknown (aws.ec2.instance_ssm_managed fails it)."""
    return {("aws.ec2.instance_antivirus", o.ids["us-i-unmanaged"])}


def test_no_errors_but_the_expected_ones(assessed: tuple[Org, list[Finding]]) -> None:
    org, findings = assessed
    errors = {(f.check_id, f.resource_id): f.message for f in findings if f.status == Status.ERROR}
    assert set(errors) == expected_errors(org), errors
    assert all("not managed by SSM" in m for m in errors.values()), errors


@pytest.mark.parametrize("check_id", sorted(load_checks(["checks.aws"])))
def test_failures_are_exactly_the_seeded_ones(assessed: tuple[Org, list[Finding]], check_id: str) -> None:
    org, findings = assessed
    mine = [f for f in findings if f.check_id == check_id]
    failing = {f.resource_id for f in mine if f.status == Status.FAIL}
    expected = expected_failures(org)[check_id]
    messages = {f.resource_id: f.message for f in mine if f.resource_id in failing ^ expected}
    assert failing == expected, (sorted(failing - expected), sorted(expected - failing), messages)
    if check_id in NO_FAIL_CASE:
        assert not expected
    else:
        assert expected, f"{check_id}: the seed has no failing case"
    passing = [f for f in mine if f.status == Status.PASS]
    if check_id in PASS_IMPOSSIBLE_IN_MOTO:
        # Honest about the gap: every resource of this check fails or does not apply here.
        assert passing == [], f"{check_id} now passes somewhere: remove it from PASS_IMPOSSIBLE_IN_MOTO"
    else:
        assert passing, f"{check_id}: no passing resource ({[(f.resource_id, f.status) for f in mine]})"

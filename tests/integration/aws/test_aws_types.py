"""Every resource type of docs/aws-resources.md, seeded in moto and collected through the proxy."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from awstest_helpers import REGIONS, Calls, context, make_source, seeder
from posture_demo.awsproxy import AwsProxy

from agent.models import Snapshot
from collectors.aws import collect
from collectors.aws.table import TABLE, all_operations

DOC = Path(__file__).resolve().parents[3] / "docs" / "aws-resources.md"
ACCOUNT = "123456789012"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def documented_types() -> set[str]:
    return set(re.findall(r"^\| `(aws\.[a-z0-9_.]+)` \|", DOC.read_text(), re.M))


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


def seed(moto: str) -> dict[str, Any]:
    c = seeder(moto)
    out: dict[str, Any] = {}
    iam = c("iam")
    iam.create_user(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="inline", PolicyDocument=json.dumps(ADMIN))
    iam.create_group(GroupName="admins")
    iam.put_group_policy(GroupName="admins", PolicyName="g-inline", PolicyDocument=json.dumps(ADMIN))
    iam.add_user_to_group(GroupName="admins", UserName="alice")
    pol = iam.create_policy(PolicyName="custom", PolicyDocument=json.dumps(ADMIN))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="alice", PolicyArn=pol)
    iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True)
    role = iam.create_role(RoleName="lambda", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    # S3 and the account public access block
    s3 = c("s3")
    s3.create_bucket(Bucket="posture-logs")
    s3.put_bucket_encryption(
        Bucket="posture-logs",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_bucket_versioning(Bucket="posture-logs", VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket="posture-logs",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_policy(
        Bucket="posture-logs",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "s3:*",
                        "Resource": "arn:aws:s3:::posture-logs/*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": "arn:aws:s3:::posture-logs/*",
                    },
                ],
            }
        ),
    )
    c("s3", "eu-west-1").create_bucket(
        Bucket="posture-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3.put_bucket_logging(
        Bucket="posture-logs",
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "posture-logs", "TargetPrefix": "self/"}},
    )
    c("s3control").put_public_access_block(
        AccountId=ACCOUNT,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    # settings
    out["detector"] = c("guardduty").create_detector(Enable=True)["DetectorId"]
    c("config").put_configuration_recorder(
        ConfigurationRecorder={"name": "default", "roleARN": role, "recordingGroup": {"allSupported": True}}
    )
    c("securityhub").enable_security_hub()
    c("ec2", "eu-west-1").enable_ebs_encryption_by_default()
    out["plan"] = c("backup").create_backup_plan(
        BackupPlan={"BackupPlanName": "daily", "Rules": [{"RuleName": "r", "TargetBackupVaultName": "Default"}]}
    )["BackupPlanId"]
    # CloudTrail
    ct = c("cloudtrail")
    out["trail"] = ct.create_trail(Name="org-trail", S3BucketName="posture-logs", IsMultiRegionTrail=True)["TrailARN"]
    ct.start_logging(Name="org-trail")
    # EC2 family in us-east-1
    ec2 = c("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub1 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]
    sub2 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]
    sg = ec2.create_security_group(GroupName="ssh-open", Description="d", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    inst = ec2.run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        SubnetId=sub1["SubnetId"],
        MetadataOptions={"HttpTokens": "required"},
    )["Instances"][0]["InstanceId"]
    out["instance"] = inst
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8, Encrypted=True)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snap, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
    )
    out.update(vpc=vpc, sg=sg, volume=vol, snapshot=snap)
    out["image"] = ec2.create_image(InstanceId=inst, Name="golden")["ImageId"]
    logs = c("logs")
    logs.create_log_group(logGroupName="flow")
    logs.put_retention_policy(logGroupName="flow", retentionInDays=365)
    out["flow"] = ec2.create_flow_logs(
        ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogGroupName="flow", DeliverLogsPermissionArn=role
    )["FlowLogIds"][0]
    # RDS, KMS, ELB, Lambda, Secrets, ACM, DynamoDB, EFS, SNS, SQS, EKS, ECR
    out["db"] = c("rds").create_db_instance(
        DBInstanceIdentifier="db1",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="u",
        MasterUserPassword="password123",
        AllocatedStorage=20,
        StorageEncrypted=True,
    )["DBInstance"]["DBInstanceArn"]
    kms = c("kms")
    out["key"] = kms.create_key(Description="data")["KeyMetadata"]
    kms.enable_key_rotation(KeyId=out["key"]["KeyId"])
    out["sign_key"] = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    elb = c("elbv2")
    lb = elb.create_load_balancer(Name="web", Subnets=[sub1["SubnetId"], sub2["SubnetId"]], Scheme="internet-facing")[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )
    out["lb"] = lb
    out["function"] = c("lambda").create_function(
        FunctionName="fn", Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": _zip()}
    )["FunctionArn"]
    out["secret"] = c("secretsmanager").create_secret(Name="db-password", SecretString="x")["ARN"]
    out["cert"] = c("acm").request_certificate(DomainName="example.com")["CertificateArn"]
    ddb = c("dynamodb")
    out["table"] = ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    ddb.update_continuous_backups(
        TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    out["efs"] = c("efs").create_file_system(CreationToken="t", Encrypted=True)["FileSystemArn"]
    out["topic"] = c("sns").create_topic(Name="alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    c("sqs").create_queue(QueueName="jobs", Attributes={"SqsManagedSseEnabled": "true"})
    out["cluster"] = c("eks").create_cluster(
        name="k8s", roleArn=role, resourcesVpcConfig={"subnetIds": [sub1["SubnetId"]], "endpointPublicAccess": True}
    )["cluster"]["arn"]
    out["repo"] = c("ecr").create_repository(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})[
        "repository"
    ]["repositoryArn"]
    return out


APPS = [{"Name": "CrowdStrike Falcon Sensor", "Version": "7.10", "Publisher": "CrowdStrike, Inc."}]


@pytest.fixture(scope="module")
def world(module_aws: str) -> Iterator[tuple[Snapshot, dict[str, Any], Calls]]:
    seeded = seed(module_aws)
    calls = Calls()
    with AwsProxy(module_aws, inventory={seeded["instance"]: APPS}) as proxy, pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", proxy.url)
        snapshots = collect(make_source(), context(calls))
    assert len(snapshots) == 1
    yield snapshots[0], seeded, calls


def one(snap: Snapshot, type_: str, id_: str) -> Any:
    found = snap.get(id_)
    assert found is not None, f"{type_} {id_} not collected: {[r.id for r in snap.of_type(type_)]}"
    assert found.type == type_
    return found


def test_every_documented_type_is_in_the_table_and_collected(world: Any) -> None:
    snap, _, _ = world
    assert documented_types() == {rt.type for rt in TABLE}
    assert documented_types() <= {r.type for r in snap.resources}
    assert snap.errors == (), [e.summary() for e in snap.errors]
    assert snap.source == "test-aws" and snap.provider == "aws" and snap.account == ACCOUNT
    for r in snap.resources:
        assert r.errors == {}, (r.id, r.errors)
        assert r.account == ACCOUNT


def test_observed_calls_are_the_tables(world: Any) -> None:
    _, _, calls = world
    assert calls.ops() <= all_operations()
    assert not [
        k
        for k in calls.counts
        if k[2]
        not in (
            None,
            "NoSuchEntity",
            "ServerSideEncryptionConfigurationNotFoundError",
            "NoSuchPublicAccessBlockConfiguration",
            "NoSuchBucketPolicy",
            "InvalidAccessException",
        )
    ]


def test_iam(world: Any) -> None:
    snap, _, _ = world
    account = one(snap, "aws.account", f"arn:aws:iam::{ACCOUNT}:root")
    assert account.region == "global"
    assert account.attributes["AccountSummary"]["Users"] == 1
    assert account.attributes["PasswordPolicy"]["MinimumPasswordLength"] == 14
    assert account.attributes["RootCredentials"] is None  # moto's report has no root row
    alice = one(snap, "aws.iam.user", f"arn:aws:iam::{ACCOUNT}:user/alice")
    creds = alice.attributes["Credentials"]
    assert creds["mfa_active"] == "false" and "access_key_1_active" in creds
    assert alice.attributes["UserPolicyList"][0]["PolicyDocument"] == ADMIN  # a dict, not a string
    assert alice.attributes["GroupList"] == ["admins"]
    assert alice.attributes["AttachedManagedPolicies"][0]["PolicyName"] == "custom"
    policy = one(snap, "aws.iam.policy", f"arn:aws:iam::{ACCOUNT}:policy/custom")
    assert policy.attributes["PolicyVersionList"][0]["Document"] == ADMIN
    assert policy.attributes["AttachmentCount"] == 1
    group = one(snap, "aws.iam.group", f"arn:aws:iam::{ACCOUNT}:group/admins")
    assert group.attributes["GroupPolicyList"][0]["PolicyDocument"] == ADMIN


def test_s3(world: Any) -> None:
    snap, _, _ = world
    account = one(snap, "aws.s3.account", f"arn:aws:s3::{ACCOUNT}:account")
    assert account.attributes["PublicAccessBlock"]["BlockPublicAcls"] is True
    logs = one(snap, "aws.s3.bucket", "arn:aws:s3:::posture-logs")
    assert logs.region == "us-east-1"
    a = logs.attributes
    assert a["Encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert a["Versioning"] == {"Status": "Enabled"}
    assert a["PublicAccessBlock"]["RestrictPublicBuckets"] is True
    assert a["Policy"]["Statement"][0]["Effect"] == "Deny"
    assert a["Acl"]["Grants"] and a["Logging"]["TargetPrefix"] == "self/"
    assert a["CreationDate"].endswith("Z")
    eu = one(snap, "aws.s3.bucket", "arn:aws:s3:::posture-eu")
    assert eu.region == "eu-west-1"
    assert eu.attributes["Encryption"] is None and eu.attributes["PublicAccessBlock"] is None
    assert eu.attributes["Policy"] is None and eu.attributes["Versioning"] == {}
    assert eu.attributes["Logging"] is None


def test_settings(world: Any) -> None:
    snap, seeded, _ = world
    for region in REGIONS:
        for svc in ("accessanalyzer", "guardduty", "config", "securityhub", "ec2", "backup"):
            one(snap, f"aws.{svc}.settings", f"arn:aws:{svc}:{region}:{ACCOUNT}:settings")
    s = lambda svc, region: snap.get(f"arn:aws:{svc}:{region}:{ACCOUNT}:settings").attributes  # noqa: E731
    assert s("accessanalyzer", "us-east-1") == {"Analyzers": []}
    assert s("guardduty", "us-east-1")["Detectors"][0]["DetectorId"] == seeded["detector"]
    assert s("guardduty", "us-east-1")["Detectors"][0]["Status"] == "ENABLED"
    assert s("guardduty", "eu-west-1")["Detectors"] == []
    assert s("config", "us-east-1")["Recorders"][0]["name"] == "default"
    assert isinstance(s("config", "us-east-1")["RecorderStatus"], list)
    assert s("securityhub", "us-east-1")["Hub"]["HubArn"]
    assert s("securityhub", "eu-west-1")["Hub"] is None
    assert s("ec2", "eu-west-1")["EbsEncryptionByDefault"] is True
    assert s("ec2", "us-east-1")["EbsEncryptionByDefault"] is False
    backup = s("backup", "us-east-1")
    assert backup["Plans"][0]["BackupPlanId"] == seeded["plan"]
    assert backup["Selections"] == {seeded["plan"]: []} and backup["ProtectedResources"] == []


def test_cloudtrail(world: Any) -> None:
    snap, seeded, _ = world
    trail = one(snap, "aws.cloudtrail.trail", seeded["trail"])
    assert trail.region == "us-east-1" and trail.attributes["IsMultiRegionTrail"] is True
    assert trail.attributes["Status"]["IsLogging"] is True
    assert "EventSelectors" in trail.attributes
    assert "ResponseMetadata" not in trail.attributes["Status"]


def test_ec2(world: Any) -> None:
    snap, seeded, _ = world
    arn = f"arn:aws:ec2:us-east-1:{ACCOUNT}"
    inst = one(snap, "aws.ec2.instance", f"{arn}:instance/{seeded['instance']}")
    assert inst.attributes["MetadataOptions"]["HttpTokens"] == "required"
    assert inst.attributes["LaunchTime"].endswith("Z")
    sg = one(snap, "aws.ec2.security_group", f"{arn}:security-group/{seeded['sg']}")
    assert sg.attributes["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert one(snap, "aws.ec2.volume", f"{arn}:volume/{seeded['volume']}").attributes["Encrypted"] is True
    snapshot = one(snap, "aws.ec2.snapshot", f"{arn}:snapshot/{seeded['snapshot']}")
    assert snapshot.attributes["CreateVolumePermissions"] == [{"Group": "all"}]
    assert "Public" in one(snap, "aws.ec2.image", f"{arn}:image/{seeded['image']}").attributes
    vpc = one(snap, "aws.ec2.vpc", f"{arn}:vpc/{seeded['vpc']}")
    assert [f["FlowLogId"] for f in vpc.attributes["FlowLogs"]] == [seeded["flow"]]
    default_vpcs = [v for v in snap.of_type("aws.ec2.vpc", region="eu-west-1")]
    assert default_vpcs and all(v.attributes["FlowLogs"] == [] for v in default_vpcs)


def test_ssm_inventory_through_the_proxy(world: Any) -> None:
    snap, seeded, _ = world
    managed = one(
        snap, "aws.ssm.managed_instance", f"arn:aws:ssm:us-east-1:{ACCOUNT}:managed-instance/{seeded['instance']}"
    )
    assert managed.attributes["PingStatus"] == "Online"
    assert managed.attributes["LastPingDateTime"].endswith("Z")
    assert managed.attributes["Applications"] == APPS
    assert snap.of_type("aws.ssm.managed_instance", region="eu-west-1") == []


def test_data_and_compute_services(world: Any) -> None:
    snap, seeded, _ = world
    db = one(snap, "aws.rds.instance", seeded["db"])
    assert db.attributes["StorageEncrypted"] is True and "DeletionProtection" in db.attributes
    key = one(snap, "aws.kms.key", seeded["key"]["Arn"])
    assert key.attributes["KeyManager"] == "CUSTOMER" and key.attributes["KeyRotationEnabled"] is True
    assert one(snap, "aws.kms.key", seeded["sign_key"]["Arn"]).attributes["KeyRotationEnabled"] is None
    lb = one(snap, "aws.elbv2.load_balancer", seeded["lb"])
    assert lb.attributes["Scheme"] == "internet-facing"
    assert lb.attributes["Listeners"][0]["Protocol"] == "HTTP"
    group = one(snap, "aws.logs.log_group", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:flow")
    assert group.attributes["retentionInDays"] == 365
    fn = one(snap, "aws.lambda.function", seeded["function"])
    assert fn.attributes["Runtime"] == "python3.12" and fn.attributes["UrlConfigs"] == []
    assert one(snap, "aws.secretsmanager.secret", seeded["secret"]).attributes["Name"] == "db-password"
    cert = one(snap, "aws.acm.certificate", seeded["cert"])
    assert cert.attributes["Certificate"]["DomainName"] == "example.com"
    table = one(snap, "aws.dynamodb.table", seeded["table"])
    assert table.attributes["TableName"] == "orders"
    pitr = table.attributes["ContinuousBackups"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert one(snap, "aws.efs.file_system", seeded["efs"]).attributes["Encrypted"] is True
    topic = one(snap, "aws.sns.topic", seeded["topic"])
    assert topic.attributes["Attributes"]["KmsMasterKeyId"] == "alias/aws/sns"
    queue = one(snap, "aws.sqs.queue", f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs")
    assert queue.attributes["Attributes"]["SqsManagedSseEnabled"] == "true"
    assert queue.attributes["QueueUrl"].endswith("/jobs")
    cluster = one(snap, "aws.eks.cluster", seeded["cluster"])
    assert cluster.attributes["resourcesVpcConfig"]["endpointPublicAccess"] is True
    repo = one(snap, "aws.ecr.repository", seeded["repo"])
    assert repo.attributes["imageScanningConfiguration"]["scanOnPush"] is True

"""EC2 instance, security group, EBS, snapshot, image, VPC and antivirus checks."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from typing import Any

import pytest
from aws_check_fixtures import (
    ACCT,
    ERROR,
    FAIL,
    NA,
    PASS,
    REGION,
    Case,
    assert_covered,
    case,
    check_case,
    listing_error,
    res,
    settings,
)

import checks.aws.ec2 as ec2


def instance(
    iid: str = "i-1", state: str = "running", region: str = REGION, errors: dict[str, str] | None = None, **over: Any
):
    attrs: dict[str, Any] = {
        "InstanceId": iid,
        "State": {"Name": state},
        "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
    }
    attrs |= over
    for key in errors or {}:
        attrs.pop(key, None)
    return res("aws.ec2.instance", f"arn:aws:ec2:{region}:{ACCT}:instance/{iid}", region=region, errors=errors, **attrs)


def managed(
    iid: str = "i-1",
    apps: list[str] | None = None,
    region: str = REGION,
    errors: dict[str, str] | None = None,
    ping: str | None = "Online",
    account: str = ACCT,
):
    attrs: dict[str, Any] = {"InstanceId": iid, "PlatformType": "Linux"}
    if ping is not None:
        attrs["PingStatus"] = ping
    if apps is not None:
        attrs["Applications"] = [{"Name": a, "Version": "1"} for a in apps]
    return res(
        "aws.ssm.managed_instance",
        f"arn:aws:ssm:{region}:{account}:managed-instance/{iid}",
        region=region,
        account=account,
        errors=errors,
        **attrs,
    )


def rule(
    port_from: int | None, port_to: int | None, proto: str = "tcp", v4: tuple[str, ...] = (), v6: tuple[str, ...] = ()
) -> dict[str, Any]:
    perm: dict[str, Any] = {
        "IpProtocol": proto,
        "IpRanges": [{"CidrIp": c} for c in v4],
        "Ipv6Ranges": [{"CidrIpv6": c} for c in v6],
    }
    if port_from is not None:
        perm |= {"FromPort": port_from, "ToPort": port_to}
    return perm


def sg(
    ingress: list[dict[str, Any]],
    name: str = "web",
    egress: list[dict[str, Any]] | None = None,
    errors: dict[str, str] | None = None,
):
    attrs: dict[str, Any] = {"GroupId": "sg-1", "GroupName": name, "VpcId": "vpc-1"}
    if not errors:
        attrs |= {"IpPermissions": ingress, "IpPermissionsEgress": egress or []}
    return res("aws.ec2.security_group", f"arn:aws:ec2:{REGION}:{ACCT}:security-group/sg-1", errors=errors, **attrs)


ANY4 = ("0.0.0.0/0",)
ANY6 = ("::/0",)
# DescribeInstances NetworkInterfaces: a private primary interface and a second one with an Elastic IP.
SECONDARY_EIP = [
    {
        "NetworkInterfaceId": "eni-1",
        "Attachment": {"DeviceIndex": 0},
        "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.5", "Primary": True}],
    },
    {
        "NetworkInterfaceId": "eni-2",
        "Attachment": {"DeviceIndex": 1},
        "Association": {"PublicIp": "3.5.6.7", "IpOwnerId": "amazon"},
        "PrivateIpAddresses": [
            {
                "PrivateIpAddress": "10.0.1.5",
                "Primary": True,
                "Association": {"PublicIp": "3.5.6.7", "IpOwnerId": "amazon"},
            }
        ],
    },
]


def vol(errors: dict[str, str] | None = None, **attrs: Any):
    return res("aws.ec2.volume", f"arn:aws:ec2:{REGION}:{ACCT}:volume/vol-1", errors=errors, **attrs)


def snap(errors: dict[str, str] | None = None, **attrs: Any):
    return res("aws.ec2.snapshot", f"arn:aws:ec2:{REGION}:{ACCT}:snapshot/snap-1", errors=errors, **attrs)


def image(errors: dict[str, str] | None = None, **attrs: Any):
    return res("aws.ec2.image", f"arn:aws:ec2:{REGION}:{ACCT}:image/ami-1", errors=errors, **attrs)


def vpc(errors: dict[str, str] | None = None, **attrs: Any):
    return res("aws.ec2.vpc", f"arn:aws:ec2:{REGION}:{ACCT}:vpc/vpc-1", errors=errors, VpcId="vpc-1", **attrs)


CASES = [
    # IMDSv2
    case(ec2.instance_imdsv2, instance(), PASS, "requires IMDSv2", id="pass"),
    case(
        ec2.instance_imdsv2,
        instance(MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "disabled"}),
        PASS,
        "disabled",
        id="endpoint-off",
    ),
    case(
        ec2.instance_imdsv2,
        instance(MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled"}),
        FAIL,
        "allows IMDSv1",
        id="fail",
    ),
    case(ec2.instance_imdsv2, instance(state="terminated"), NA, id="terminated"),
    case(ec2.instance_imdsv2, instance(errors={"MetadataOptions": "?"}), ERROR, "MetadataOptions", id="error"),
    # public IP
    case(ec2.instance_no_public_ip, instance(), PASS, "no public IP", id="pass"),
    case(ec2.instance_no_public_ip, instance(PublicIpAddress="54.1.2.3"), FAIL, "54.1.2.3", id="fail"),
    case(ec2.instance_no_public_ip, instance(errors={"State": "?"}), ERROR, "State", id="error"),
    # SSH
    case(ec2.sg_no_open_ssh, sg([rule(22, 22, v4=("10.0.0.0/8",))]), PASS, "does not open SSH", id="pass"),
    case(ec2.sg_no_open_ssh, sg([rule(443, 443, v4=ANY4)]), PASS, id="other-port"),
    case(ec2.sg_no_open_ssh, sg([rule(22, 22, v4=ANY4)]), FAIL, "port 22 from 0.0.0.0/0", id="v4"),
    case(ec2.sg_no_open_ssh, sg([rule(0, 1024, v6=ANY6)]), FAIL, "::/0", id="v6-range"),
    case(ec2.sg_no_open_ssh, sg([rule(None, None, proto="-1", v4=ANY4)]), FAIL, "SSH", id="all-traffic"),
    case(ec2.sg_no_open_ssh, sg([rule(22, 22, proto="udp", v4=ANY4)]), PASS, id="udp-is-not-ssh"),
    case(ec2.sg_no_open_ssh, sg([], errors={"IpPermissions": "?"}), ERROR, id="error"),
    # RDP
    case(ec2.sg_no_open_rdp, sg([rule(22, 22, v4=ANY4)]), PASS, id="pass"),
    case(ec2.sg_no_open_rdp, sg([rule(3389, 3389, v4=ANY4)]), FAIL, "RDP", id="fail"),
    case(ec2.sg_no_open_rdp, sg([], errors={"IpPermissions": "?"}), ERROR, id="error"),
    # DB ports
    case(ec2.sg_no_open_db_ports, sg([rule(443, 443, v4=ANY4)]), PASS, id="pass"),
    case(
        ec2.sg_no_open_db_ports,
        sg([rule(5432, 5432, v4=ANY4), rule(6379, 6379, v6=ANY6)]),
        FAIL,
        "5432 from 0.0.0.0/0, 6379 from ::/0",
        id="fail",
    ),
    case(ec2.sg_no_open_db_ports, sg([rule(8080, 8080, v4=ANY4)]), FAIL, "8080", params={"ports": [8080]}, id="param"),
    case(ec2.sg_no_open_db_ports, sg([], errors={"IpPermissions": "?"}), ERROR, id="error"),
    # default SG
    case(ec2.default_sg_restricts_all, sg([], name="default"), PASS, "no rules", id="pass"),
    case(
        ec2.default_sg_restricts_all,
        sg([], name="default", egress=[rule(None, None, proto="-1", v4=ANY4)]),
        FAIL,
        "0 inbound and 1 outbound",
        id="fail",
    ),
    case(ec2.default_sg_restricts_all, sg([rule(22, 22, v4=ANY4)]), NA, "not a default group", id="na"),
    case(ec2.default_sg_restricts_all, sg([], name="default", errors={"IpPermissions": "?"}), ERROR, id="error"),
    # EBS default encryption
    case(ec2.ebs_default_encryption, settings("aws.ec2.settings", EbsEncryptionByDefault=True), PASS, id="pass"),
    case(
        ec2.ebs_default_encryption,
        settings("aws.ec2.settings", EbsEncryptionByDefault=False),
        FAIL,
        "off in us-east-1",
        id="fail",
    ),
    case(
        ec2.ebs_default_encryption,
        settings("aws.ec2.settings", errors={"EbsEncryptionByDefault": "?"}),
        ERROR,
        id="error",
    ),
    # volumes
    case(ec2.volume_encrypted, vol(Encrypted=True), PASS, id="pass"),
    case(ec2.volume_encrypted, vol(Encrypted=False), FAIL, "vol-1 is not encrypted", id="fail"),
    case(ec2.volume_encrypted, vol(errors={"Encrypted": "?"}), ERROR, id="error"),
    # snapshots
    case(
        ec2.snapshot_not_public,
        snap(CreateVolumePermissions=[{"UserId": "111122223333"}]),
        PASS,
        "shared with 1 account",
        id="pass",
    ),
    case(ec2.snapshot_not_public, snap(CreateVolumePermissions=[{"Group": "all"}]), FAIL, "anyone", id="fail"),
    case(ec2.snapshot_not_public, snap(errors={"CreateVolumePermissions": "AccessDenied"}), ERROR, id="error"),
    # images
    case(ec2.ami_not_public, image(Public=False), PASS, id="pass"),
    case(ec2.ami_not_public, image(Public=True), FAIL, "ami-1 is public", id="fail"),
    case(ec2.ami_not_public, image(errors={"Public": "?"}), ERROR, id="error"),
    # flow logs
    case(ec2.vpc_flow_logs, vpc(FlowLogs=[{"FlowLogId": "fl-1", "FlowLogStatus": "ACTIVE"}]), PASS, "fl-1", id="pass"),
    case(ec2.vpc_flow_logs, vpc(FlowLogs=[]), FAIL, "no flow logs", id="none"),
    case(
        ec2.vpc_flow_logs,
        vpc(FlowLogs=[{"FlowLogId": "fl-1", "FlowLogStatus": "INACTIVE"}]),
        FAIL,
        "none is ACTIVE",
        id="inactive",
    ),
    case(ec2.vpc_flow_logs, vpc(errors={"FlowLogs": "AccessDenied"}), ERROR, id="error"),
    # antivirus
    case(
        ec2.instance_antivirus,
        [instance(), managed(apps=["openssl", "falcon-sensor"])],
        PASS,
        "runs falcon-sensor",
        id="crowdstrike",
    ),
    case(ec2.instance_antivirus, [instance(), managed(apps=["Microsoft Defender for Endpoint"])], PASS, id="defender"),
    case(ec2.instance_antivirus, [instance(), managed(apps=["ESET Server Security"])], PASS, id="eset"),
    case(
        ec2.instance_antivirus,
        [instance(), managed(apps=["preset-manager", "nginx"])],
        FAIL,
        "no known antivirus/EDR among 2",
        id="word-boundary",
    ),
    case(ec2.instance_antivirus, [instance(), managed(apps=[])], FAIL, id="nothing-installed"),
    case(
        ec2.instance_antivirus,
        [instance(), managed(apps=["acme-guard"])],
        PASS,
        "acme-guard",
        params={"products": ["acme-guard"]},
        id="param",
    ),
    case(ec2.instance_antivirus, [instance()], ERROR, "not managed by SSM: antivirus state unknown", id="not-managed"),
    case(
        ec2.instance_antivirus,
        [instance(), managed(apps=["clamav"], region="eu-west-1")],
        ERROR,
        "not managed by SSM",
        id="other-region",
    ),
    case(ec2.instance_antivirus, [instance(state="stopped")], NA, "stopped", id="stopped"),
    case(
        ec2.instance_antivirus,
        [instance(), managed(errors={"Applications": "InvalidFilter"})],
        ERROR,
        "Applications",
        id="error",
    ),
    case(
        ec2.instance_antivirus,
        [instance(), managed(apps=["clamav"])],
        ERROR,
        "input missing",
        errors=[listing_error("aws.ssm.managed_instance")],
        id="requires-error",
    ),
    # SSM management
    case(ec2.instance_ssm_managed, [instance(), managed()], PASS, "managed by SSM and its agent is online", id="pass"),
    case(
        ec2.instance_ssm_managed,
        [instance(), managed(iid="i-2")],
        FAIL,
        "instance i-1 is not managed by SSM: unknown antivirus/patch state",
        id="not-managed",
    ),
    case(
        ec2.instance_ssm_managed,
        [instance(), managed(region="eu-west-1")],
        FAIL,
        "not managed by SSM",
        id="managed-in-other-region",
    ),
    case(
        ec2.instance_ssm_managed,
        [instance(), managed(account="210987654321")],
        FAIL,
        "not managed by SSM",
        id="managed-in-other-account",
    ),
    case(ec2.instance_ssm_managed, [instance(state="stopped")], NA, "stopped", id="stopped"),
    case(ec2.instance_ssm_managed, [instance(state="pending")], NA, "pending", id="pending"),
    case(
        ec2.instance_ssm_managed,
        [instance()],
        ERROR,
        "input missing",
        errors=[listing_error("aws.ssm.managed_instance")],
        id="requires-error",
    ),
    case(
        ec2.instance_ssm_managed,
        [instance(), managed()],
        ERROR,
        "input missing",
        errors=[listing_error("aws.ssm.managed_instance")],
        id="requires-error-even-if-listed",
    ),
    case(ec2.instance_ssm_managed, [instance(), managed(ping=None)], ERROR, "PingStatus", id="no-ping-status"),
    case(ec2.instance_ssm_managed, instance(errors={"State": "x"}), ERROR, "State", id="error"),
    # -- looks fine but is not ----------------------------------------------------------------------
    case(
        ec2.instance_imdsv2,
        instance(
            state="stopped",
            MetadataOptions={
                "HttpTokens": "optional",
                "HttpEndpoint": "enabled",
                "HttpPutResponseHopLimit": 1,
                "State": "applied",
            },
        ),
        FAIL,
        "allows IMDSv1",
        id="stopped-hop-limit-1",
        looks_fine="the instance is stopped and its hop limit is 1, so metadata looks out of reach, but it answers "
        "IMDSv1 requests the moment it starts",
    ),
    case(
        ec2.instance_no_public_ip,
        instance(NetworkInterfaces=[SECONDARY_EIP[0] | {"Association": {}}, SECONDARY_EIP[1]]),
        FAIL,
        "3.5.6.7",
        id="defect-secondary-eni-elastic-ip",
        looks_fine="PublicIpAddress is absent, but it describes only the primary interface; an Elastic IP sits on "
        "the second one",
    ),
    case(
        ec2.instance_no_public_ip,
        instance(NetworkInterfaces=[SECONDARY_EIP[0]]),
        PASS,
        "no public IP",
        id="private-interfaces",
    ),
    case(
        ec2.sg_no_open_ssh,
        sg([rule(20, 25, v4=ANY4)]),
        FAIL,
        "port 22 from 0.0.0.0/0",
        id="range-20-25",
        looks_fine="no rule names port 22, but the range 20-25 contains it",
    ),
    case(
        ec2.sg_no_open_ssh,
        sg([rule(22, 22, v4=("10.0.0.0/8",), v6=ANY6)]),
        FAIL,
        "port 22 from ::/0",
        id="ipv6-in-private-rule",
        looks_fine="the rule's IPv4 source is a private range, but the same rule opens port 22 to ::/0",
    ),
    case(
        ec2.sg_no_open_rdp,
        sg([rule(None, None, proto="-1", v6=ANY6)]),
        FAIL,
        "3389 from ::/0",
        id="all-traffic-ipv6",
        looks_fine="no rule mentions 3389 or TCP, but an all-traffic rule (IpProtocol -1) from ::/0 includes it",
    ),
    case(
        ec2.sg_no_open_db_ports,
        sg([rule(5000, 6000, v6=ANY6)]),
        FAIL,
        "5432 from ::/0",
        id="app-range-ipv6",
        looks_fine="an IPv6-only port range for an app tier, but 5000-6000 holds PostgreSQL's 5432 and Redshift's 5439",
    ),
    case(
        ec2.default_sg_restricts_all,
        sg(
            [{"IpProtocol": "-1", "IpRanges": [], "Ipv6Ranges": [], "UserIdGroupPairs": [{"GroupId": "sg-1"}]}],
            name="default",
        ),
        FAIL,
        "1 inbound and 0 outbound",
        id="self-reference-only",
        looks_fine="the only rule lets the group talk to itself, the AWS default, and nothing is open to 0.0.0.0/0, "
        "yet anything dropped in the group reaches everything else in it",
    ),
    case(
        ec2.ebs_default_encryption,
        [settings("aws.ec2.settings", EbsEncryptionByDefault=False), vol(Encrypted=True)],
        FAIL,
        "off in us-east-1",
        id="volumes-all-encrypted",
        looks_fine="every volume in the region is encrypted today, but the default is off, so the next one created "
        "without the flag is not",
    ),
    case(
        ec2.volume_encrypted,
        [vol(Encrypted=False), settings("aws.ec2.settings", EbsEncryptionByDefault=True)],
        FAIL,
        "vol-1 is not encrypted",
        id="default-on-old-volume",
        looks_fine="EBS encryption by default is on in the region, but it applies only to volumes created after it "
        "was turned on",
    ),
    case(
        ec2.snapshot_not_public,
        snap(CreateVolumePermissions=[{"UserId": "111122223333"}, {"Group": "all"}]),
        FAIL,
        "anyone",
        id="partner-then-all",
        looks_fine="the first permission names one partner account, like a private share, but a later one grants "
        "group all",
    ),
    case(
        ec2.ami_not_public,
        image(Public=True, DeprecationTime="2025-05-01T00:00:00Z"),
        FAIL,
        "ami-1 is public",
        id="deprecated-public",
        looks_fine="the image is deprecated, so other accounts no longer see it in DescribeImages, but anyone with "
        "its id can still launch it",
    ),
    case(
        ec2.vpc_flow_logs,
        vpc(
            FlowLogs=[
                {
                    "FlowLogId": "fl-1",
                    "FlowLogStatus": "ACTIVE",
                    "DeliverLogsStatus": "FAILED",
                    "DeliverLogsErrorMessage": "Access error",
                    "LogDestinationType": "cloud-watch-logs",
                }
            ]
        ),
        FAIL,
        "fl-1: Access error",
        id="defect-active-but-delivery-failed",
        looks_fine="the flow log is ACTIVE, but DeliverLogsStatus is FAILED: it cannot write to its log group",
    ),
    case(
        ec2.vpc_flow_logs,
        vpc(
            FlowLogs=[
                {"FlowLogId": "fl-1", "FlowLogStatus": "ACTIVE", "DeliverLogsStatus": "FAILED"},
                {"FlowLogId": "fl-2", "FlowLogStatus": "ACTIVE", "DeliverLogsStatus": "SUCCESS"},
            ]
        ),
        PASS,
        "fl-2",
        id="one-delivering",
    ),
    case(
        ec2.instance_antivirus,
        [instance(), managed(apps=["amazon-ssm-agent", "aide", "openscap-scanner", "amazon-cloudwatch-agent"])],
        FAIL,
        "no known antivirus/EDR among 4",
        id="security-tools-not-av",
        looks_fine="the inventory lists security tools (AIDE file integrity, an OpenSCAP scanner), but none of "
        "them is antivirus or EDR",
    ),
    case(
        ec2.instance_ssm_managed,
        [instance(), managed(ping="ConnectionLost", apps=["falcon-sensor"])],
        FAIL,
        "whose agent is ConnectionLost",
        id="agent-lost",
        looks_fine="the instance is listed by DescribeInstanceInformation and its last inventory shows an EDR, "
        "but PingStatus is ConnectionLost: the agent stopped reporting, so that state is stale",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    check_case(c)


def test_every_check_covered() -> None:
    assert_covered(CASES, ec2)


def test_requires_error_in_other_region_does_not_starve() -> None:
    c = Case(
        ec2.instance_antivirus,
        [instance(), managed(apps=["clamav"])],
        PASS,
        errors=[listing_error("aws.ssm.managed_instance", "eu-west-1")],
    )
    check_case(c)

"""EC2: instance metadata, exposure, security groups, EBS and image sharing, flow logs, antivirus."""

from __future__ import annotations

from collections.abc import Iterable

from agent.models import Resource
from checks.aws._util import is_running, matches_product, open_ingress
from checks.base import (
    Context,
    MissingInput,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)

EC2_DOCS = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/"
VPC_DOCS = "https://docs.aws.amazon.com/vpc/latest/userguide/"


def _short(resource: Resource) -> str:
    return resource.id.rsplit("/", 1)[-1]


def _state(instance: Resource) -> str:
    return str((need(instance, "State") or {}).get("Name", "unknown"))


def _gone(instance: Resource) -> bool:
    return _state(instance) in ("terminated", "shutting-down")


# -- instances ---------------------------------------------------------------------------------


@check(
    id="aws.ec2.instance_imdsv2",
    title="EC2 instances require IMDSv2 session tokens",
    severity=Severity.HIGH,
    resource_type="aws.ec2.instance",
    rationale=(
        "IMDSv1 answers any GET request, so a server-side request forgery bug in an application can "
        "read the instance role's credentials. IMDSv2 requires a session token that such requests "
        "cannot obtain."
    ),
    remediation=Remediation(
        console=(
            "1. Open the EC2 console and choose Instances, then the instance.\n"
            "2. Choose Actions > Instance settings > Modify instance metadata options.\n"
            "3. Set IMDSv2 to Required and save."
        ),
        cli="aws ec2 modify-instance-metadata-options --instance-id <instance-id> --http-tokens required "
        "--http-endpoint enabled",
        docs=EC2_DOCS + "configuring-IMDS-existing-instances.html",
    ),
    reads=("ec2:DescribeInstances: State.Name, MetadataOptions.HttpTokens, MetadataOptions.HttpEndpoint",),
    needs="ec2:DescribeInstances",
)
def instance_imdsv2(instance: Resource, ctx: Context) -> Verdict:
    if _gone(instance):
        return not_applicable(f"instance {_short(instance)} is {_state(instance)}")
    options = need(instance, "MetadataOptions") or {}
    if options.get("HttpEndpoint") == "disabled":
        return passed(f"instance {_short(instance)} has the metadata service disabled")
    if options.get("HttpTokens") == "required":
        return passed(f"instance {_short(instance)} requires IMDSv2 tokens")
    return failed(f"instance {_short(instance)} allows IMDSv1 (HttpTokens {options.get('HttpTokens', 'unset')})")


@check(
    id="aws.ec2.instance_no_public_ip",
    title="EC2 instances do not have public IP addresses",
    severity=Severity.MEDIUM,
    resource_type="aws.ec2.instance",
    rationale=(
        "An instance with a public address can be reached from the internet whenever a security "
        "group allows it. Keeping instances private behind load balancers or a bastion shrinks the "
        "attack surface."
    ),
    remediation=Remediation(
        console=(
            "1. Open the EC2 console and choose the instance.\n"
            "2. Disassociate any Elastic IP (Actions > Networking > Disassociate Elastic IP address).\n"
            "3. Relaunch in a private subnet if the address was auto-assigned, and reach it through a "
            "load balancer or Session Manager."
        ),
        cli="aws ec2 disassociate-address --association-id <association-id> && "
        "aws ec2 modify-subnet-attribute --subnet-id <subnet-id> --no-map-public-ip-on-launch",
        docs=EC2_DOCS + "using-instance-addressing.html",
    ),
    reads=(
        (
            "ec2:DescribeInstances: State.Name, PublicIpAddress, NetworkInterfaces[].Association.PublicIp, "
            "NetworkInterfaces[].PrivateIpAddresses[].Association.PublicIp"
        ),
    ),
    needs="ec2:DescribeInstances",
)
def instance_no_public_ip(instance: Resource, ctx: Context) -> Verdict:
    if _gone(instance):
        return not_applicable(f"instance {_short(instance)} is {_state(instance)}")
    addresses = _public_ips(instance)
    if addresses:
        return failed(f"instance {_short(instance)} has public IP {', '.join(addresses)}")
    return passed(f"instance {_short(instance)} has no public IP address")


def _public_ips(instance: Resource) -> list[str]:
    """PublicIpAddress covers only the primary interface: an Elastic IP on a secondary interface
    (or on a secondary private address) shows up only in NetworkInterfaces[].Association."""
    found = [str(instance.attributes["PublicIpAddress"])] if instance.attributes.get("PublicIpAddress") else []
    for eni in instance.attributes.get("NetworkInterfaces") or []:
        associations = [eni.get("Association")]
        associations += [p.get("Association") for p in eni.get("PrivateIpAddresses") or []]
        for assoc in associations:
            ip = (assoc or {}).get("PublicIp")
            if ip and str(ip) not in found:
                found.append(str(ip))
    return found


# -- security groups ---------------------------------------------------------------------------


def _sg(sg: Resource) -> str:
    gid = sg.attributes.get("GroupId") or _short(sg)
    name = sg.attributes.get("GroupName")
    return f"{gid} ({name})" if name else str(gid)


def _open_ports_verdict(sg: Resource, ports: Iterable[int], label: str) -> Verdict:
    found = open_ingress(need(sg, "IpPermissions") or [], ports)
    if found:
        detail = ", ".join(f"{p} from {' and '.join(src)}" for p, src in sorted(found.items()))
        return failed(f"security group {_sg(sg)} allows {label} from the internet: port {detail}")
    return passed(f"security group {_sg(sg)} does not open {label} to the internet")


_SG_CONSOLE = (
    "1. Open the EC2 console and choose Security Groups, then the group.\n"
    "2. On Inbound rules choose Edit inbound rules.\n"
    "3. Remove rules with source 0.0.0.0/0 or ::/0 covering the port (or all traffic), or narrow "
    "them to known address ranges; prefer Session Manager or a VPN for administration."
)
_SG_DOCS = "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"
_SG_READS = (
    "ec2:DescribeSecurityGroups: IpPermissions[].IpProtocol, FromPort, ToPort, IpRanges[].CidrIp, "
    "Ipv6Ranges[].CidrIpv6",
)


@check(
    id="aws.ec2.sg_no_open_ssh",
    title="Security groups do not allow SSH (22) from the internet",
    severity=Severity.HIGH,
    resource_type="aws.ec2.security_group",
    rationale=(
        "SSH open to 0.0.0.0/0 or ::/0 invites constant brute-force and exploit attempts. "
        "Administrative access should come from known networks or Session Manager."
    ),
    remediation=Remediation(
        console=_SG_CONSOLE,
        cli="aws ec2 revoke-security-group-ingress --group-id <group-id> --protocol tcp --port 22 --cidr 0.0.0.0/0",
        docs=_SG_DOCS,
    ),
    reads=_SG_READS,
    needs="ec2:DescribeSecurityGroups",
)
def sg_no_open_ssh(sg: Resource, ctx: Context) -> Verdict:
    return _open_ports_verdict(sg, [22], "SSH")


@check(
    id="aws.ec2.sg_no_open_rdp",
    title="Security groups do not allow RDP (3389) from the internet",
    severity=Severity.HIGH,
    resource_type="aws.ec2.security_group",
    rationale=(
        "Remote Desktop exposed to the internet is one of the most common ways ransomware gets in. "
        "It should only be reachable from known networks or through Fleet Manager or a VPN."
    ),
    remediation=Remediation(
        console=_SG_CONSOLE,
        cli="aws ec2 revoke-security-group-ingress --group-id <group-id> --protocol tcp --port 3389 --cidr 0.0.0.0/0",
        docs=_SG_DOCS,
    ),
    reads=_SG_READS,
    needs="ec2:DescribeSecurityGroups",
)
def sg_no_open_rdp(sg: Resource, ctx: Context) -> Verdict:
    return _open_ports_verdict(sg, [3389], "RDP")


DB_PORTS = [1433, 1521, 3306, 5432, 6379, 9200, 11211, 27017, 5439, 9042]


@check(
    id="aws.ec2.sg_no_open_db_ports",
    title="Security groups do not expose database ports to the internet",
    severity=Severity.HIGH,
    resource_type="aws.ec2.security_group",
    rationale=(
        "Databases, caches and search engines reachable from anywhere are routinely scanned, "
        "brute-forced and wiped for ransom. They should only accept traffic from application tiers."
    ),
    remediation=Remediation(
        console=_SG_CONSOLE,
        cli="aws ec2 revoke-security-group-ingress --group-id <group-id> --protocol tcp --port <port> --cidr 0.0.0.0/0",
        docs=_SG_DOCS,
    ),
    params={"ports": DB_PORTS},
    reads=_SG_READS,
    needs="ec2:DescribeSecurityGroups",
)
def sg_no_open_db_ports(sg: Resource, ctx: Context) -> Verdict:
    return _open_ports_verdict(sg, [int(p) for p in ctx.params.get("ports", DB_PORTS)], "database ports")


@check(
    id="aws.ec2.default_sg_restricts_all",
    title="Default security groups allow no inbound or outbound traffic",
    severity=Severity.MEDIUM,
    resource_type="aws.ec2.security_group",
    rationale=(
        "Resources launched without an explicit group land in the VPC's default group. Keeping it "
        "empty means forgetting to pick a group gives no access rather than whatever it allows."
    ),
    remediation=Remediation(
        console=(
            "1. Open the VPC console and choose Security groups, then the group named default.\n"
            "2. Delete every inbound rule and every outbound rule.\n"
            "3. Move resources that relied on it to purpose-made groups first."
        ),
        cli=(
            "aws ec2 revoke-security-group-ingress --group-id <default-group-id> --ip-permissions "
            "'<ingress-rules-json>' && aws ec2 revoke-security-group-egress --group-id <default-group-id> "
            "--ip-permissions '<egress-rules-json>'"
        ),
        docs=VPC_DOCS + "default-security-group.html",
    ),
    reads=("ec2:DescribeSecurityGroups: GroupName, IpPermissions, IpPermissionsEgress",),
    needs="ec2:DescribeSecurityGroups",
)
def default_sg_restricts_all(sg: Resource, ctx: Context) -> Verdict:
    if need(sg, "GroupName") != "default":
        return not_applicable(f"security group {_sg(sg)} is not a default group")
    ingress = need(sg, "IpPermissions") or []
    egress = need(sg, "IpPermissionsEgress") or []
    if ingress or egress:
        return failed(f"default security group {_sg(sg)} has {len(ingress)} inbound and {len(egress)} outbound rule(s)")
    return passed(f"default security group {_sg(sg)} has no rules")


# -- EBS, snapshots, images --------------------------------------------------------------------


@check(
    id="aws.ec2.ebs_default_encryption",
    title="EBS encryption by default is enabled in every region",
    severity=Severity.MEDIUM,
    resource_type="aws.ec2.settings",
    rationale=(
        "With encryption by default on, every new EBS volume and snapshot copy in the region is "
        "encrypted, so nobody has to remember to tick the box."
    ),
    remediation=Remediation(
        console=(
            "1. Open the EC2 console in the region and choose EC2 Dashboard > Data protection and security.\n"
            "2. Under EBS encryption choose Manage.\n"
            "3. Select Enable, optionally pick a KMS key, and save."
        ),
        cli="aws ec2 enable-ebs-encryption-by-default --region <region>",
        docs="https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html",
    ),
    reads=("ec2:GetEbsEncryptionByDefault: EbsEncryptionByDefault",),
    needs="ec2:GetEbsEncryptionByDefault",
)
def ebs_default_encryption(settings: Resource, ctx: Context) -> Verdict:
    if need(settings, "EbsEncryptionByDefault") is True:
        return passed(f"EBS encryption by default is on in {settings.region}")
    return failed(f"EBS encryption by default is off in {settings.region}")


@check(
    id="aws.ec2.volume_encrypted",
    title="EBS volumes are encrypted",
    severity=Severity.MEDIUM,
    resource_type="aws.ec2.volume",
    rationale=(
        "Encrypted volumes protect data at rest and in snapshots made from them, including when a "
        "snapshot is copied or shared by mistake."
    ),
    remediation=Remediation(
        console=(
            "1. Open the EC2 console and choose Volumes, then the volume; create a snapshot.\n"
            "2. Copy the snapshot with Encrypt this snapshot selected.\n"
            "3. Create a volume from the encrypted copy and swap it in for the original."
        ),
        cli="aws ec2 copy-snapshot --source-region <region> --source-snapshot-id <snapshot-id> --encrypted "
        "--kms-key-id <kms-key-arn>",
        docs="https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",
    ),
    reads=("ec2:DescribeVolumes: Encrypted",),
    needs="ec2:DescribeVolumes",
)
def volume_encrypted(volume: Resource, ctx: Context) -> Verdict:
    if need(volume, "Encrypted") is True:
        return passed(f"volume {_short(volume)} is encrypted")
    return failed(f"volume {_short(volume)} is not encrypted")


@check(
    id="aws.ec2.snapshot_not_public",
    title="EBS snapshots are not shared publicly",
    severity=Severity.CRITICAL,
    resource_type="aws.ec2.snapshot",
    rationale=(
        "A public snapshot can be copied by any AWS account, exposing the full disk contents, often "
        "including credentials and customer data."
    ),
    remediation=Remediation(
        console=(
            "1. Open the EC2 console and choose Snapshots, then the snapshot.\n"
            "2. Choose Actions > Snapshot settings > Modify permissions.\n"
            "3. Select Private and save; consider enabling Block public access for snapshots."
        ),
        cli="aws ec2 modify-snapshot-attribute --snapshot-id <snapshot-id> --attribute "
        "createVolumePermission "
        "--operation-type remove --group-names all",
        docs="https://docs.aws.amazon.com/ebs/latest/userguide/ebs-modifying-snapshot-permissions.html",
    ),
    reads=(
        "ec2:DescribeSnapshots (OwnerIds self): SnapshotId",
        "ec2:DescribeSnapshotAttribute (createVolumePermission): CreateVolumePermissions[].Group, UserId",
    ),
    needs="ec2:DescribeSnapshots, ec2:DescribeSnapshotAttribute",
)
def snapshot_not_public(snapshot: Resource, ctx: Context) -> Verdict:
    perms = need(snapshot, "CreateVolumePermissions") or []
    if any(p.get("Group") == "all" for p in perms):
        return failed(f"snapshot {_short(snapshot)} can be used by anyone (group all)")
    shared = [p.get("UserId") for p in perms if p.get("UserId")]
    extra = f"; shared with {len(shared)} account(s)" if shared else ""
    return passed(f"snapshot {_short(snapshot)} is not public{extra}")


@check(
    id="aws.ec2.ami_not_public",
    title="AMIs owned by the account are not public",
    severity=Severity.HIGH,
    resource_type="aws.ec2.image",
    rationale=(
        "A public AMI lets anyone launch a copy of your machine image, including whatever secrets "
        "and internal software were baked into it."
    ),
    remediation=Remediation(
        console=(
            "1. Open the EC2 console and choose AMIs, then the image.\n"
            "2. Choose Actions > Edit AMI permissions.\n"
            "3. Select Private and save; consider Block public access for AMIs."
        ),
        cli='aws ec2 modify-image-attribute --image-id <image-id> --launch-permission "Remove=[{Group=all}]"',
        docs=EC2_DOCS + "sharingamis-intro.html",
    ),
    reads=("ec2:DescribeImages (Owners self): Public",),
    needs="ec2:DescribeImages",
)
def ami_not_public(image: Resource, ctx: Context) -> Verdict:
    if need(image, "Public") is True:
        return failed(f"image {_short(image)} is public")
    return passed(f"image {_short(image)} is private")


# -- VPC ---------------------------------------------------------------------------------------


@check(
    id="aws.ec2.vpc_flow_logs",
    title="VPCs have flow logs enabled",
    severity=Severity.MEDIUM,
    resource_type="aws.ec2.vpc",
    rationale=(
        "Flow logs record which addresses talked to which, on what ports. Without them there is no "
        "way to tell afterwards whether data left the network or how an intruder moved."
    ),
    remediation=Remediation(
        console=(
            "1. Open the VPC console and choose Your VPCs, then the VPC.\n"
            "2. On Flow logs choose Create flow log.\n"
            "3. Filter All, choose CloudWatch Logs or S3 as destination, and create."
        ),
        cli="aws ec2 create-flow-logs --resource-type VPC --resource-ids <vpc-id> --traffic-type ALL "
        "--log-destination-type s3 --log-destination arn:aws:s3:::<bucket-name>",
        docs=VPC_DOCS + "working-with-flow-logs.html",
    ),
    reads=(
        "ec2:DescribeVpcs: VpcId",
        "ec2:DescribeFlowLogs: ResourceId, FlowLogId, FlowLogStatus, DeliverLogsStatus, DeliverLogsErrorMessage",
    ),
    needs="ec2:DescribeVpcs, ec2:DescribeFlowLogs",
)
def vpc_flow_logs(vpc: Resource, ctx: Context) -> Verdict:
    logs = need(vpc, "FlowLogs") or []
    active = [f for f in logs if f.get("FlowLogStatus") == "ACTIVE"]
    # An ACTIVE flow log whose delivery FAILED (no permission on the log group or bucket) records
    # nothing: DeliverLogsStatus says so, with DeliverLogsErrorMessage.
    delivering = [f.get("FlowLogId", "?") for f in active if str(f.get("DeliverLogsStatus", "")).upper() != "FAILED"]
    if delivering:
        return passed(f"VPC {_short(vpc)} has active flow log {', '.join(delivering)}")
    if active:
        errors = "; ".join(
            f"{f.get('FlowLogId', '?')}: {f.get('DeliverLogsErrorMessage') or 'delivery failed'}" for f in active
        )
        return failed(f"VPC {_short(vpc)} has active flow logs that fail to deliver ({errors})")
    if logs:
        return failed(f"VPC {_short(vpc)} has {len(logs)} flow log(s) and none is ACTIVE")
    return failed(f"VPC {_short(vpc)} has no flow logs")


# -- antivirus on instances, from SSM inventory ------------------------------------------------

AV_PRODUCTS = [
    "CrowdStrike",
    "Falcon Sensor",
    "falcon-sensor",
    "SentinelOne",
    "Sentinel Agent",
    "Microsoft Defender",
    "Windows Defender",
    "mdatp",
    "Microsoft Defender for Endpoint",
    "Sophos",
    "Trend Micro",
    "Deep Security Agent",
    "ds_agent",
    "Carbon Black",
    "cb-psc-sensor",
    "ESET",
    "ClamAV",
    "clamav",
    "Symantec",
    "McAfee",
    "Trellix",
    "Cortex XDR",
]


def _managed(instance: Resource, ctx: Context) -> Resource | None:
    iid = need(instance, "InstanceId")
    for mi in ctx.snapshot.of_type("aws.ssm.managed_instance", region=instance.region):
        if mi.account == instance.account and mi.attributes.get("InstanceId") == iid:
            return mi
    return None


@check(
    id="aws.ec2.instance_antivirus",
    title="Running EC2 instances have an antivirus or EDR product installed",
    severity=Severity.HIGH,
    resource_type="aws.ec2.instance",
    requires=("aws.ssm.managed_instance",),
    rationale=(
        "Servers need malware protection as much as laptops, and auditors ask for evidence that it "
        "is installed everywhere. The evidence here is the SSM software inventory; an instance "
        "without inventory cannot be shown to be protected."
    ),
    remediation=Remediation(
        console=(
            "1. Make the instance SSM-managed: attach an instance profile with "
            "AmazonSSMManagedInstanceCore and make sure the SSM Agent runs.\n"
            "2. In Systems Manager > Inventory, set up inventory collection for applications.\n"
            "3. Install your antivirus/EDR agent, e.g. with a Distributor package or Run Command."
        ),
        cli=(
            "aws ssm create-association --name AWS-GatherSoftwareInventory --targets "
            "Key=InstanceIds,Values=<instance-id> && aws ssm send-command --document-name "
            "AWS-ConfigureAWSPackage --instance-ids <instance-id> --parameters "
            "action=Install,name=<package-name>"
        ),
        docs="https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-inventory.html",
    ),
    params={"products": AV_PRODUCTS},
    reads=(
        "ec2:DescribeInstances: InstanceId, State.Name",
        "ssm:DescribeInstanceInformation: InstanceId",
        "ssm:ListInventoryEntries (TypeName AWS:Application): Entries[].Name",
    ),
    needs="ec2:DescribeInstances, ssm:DescribeInstanceInformation, ssm:ListInventoryEntries",
)
def instance_antivirus(instance: Resource, ctx: Context) -> Verdict:
    name = _short(instance)
    if not is_running(instance):
        return not_applicable(f"instance {name} is {_state(instance)}")
    managed = _managed(instance, ctx)
    if managed is None:
        raise MissingInput(f"instance {name} is not managed by SSM: antivirus state unknown")
    apps = need(managed, "Applications") or []
    names = [str(a.get("Name", "")) for a in apps if a.get("Name")]
    hits = list(matches_product(names, ctx.params.get("products", AV_PRODUCTS)))
    if hits:
        return passed(f"instance {name} runs {hits[0][0]}")
    return failed(f"instance {name} has no known antivirus/EDR among {len(names)} installed applications")


# -- SSM management: without it an instance's antivirus and patch state cannot be known ----------


@check(
    id="aws.ec2.instance_ssm_managed",
    title="Running EC2 instances are managed by Systems Manager",
    severity=Severity.MEDIUM,
    resource_type="aws.ec2.instance",
    requires=("aws.ssm.managed_instance",),
    rationale=(
        "The antivirus and patch evidence for servers comes from the SSM Agent (inventory and Patch "
        "Manager). An instance that is not a managed instance, or whose agent has stopped reporting, "
        "has an unknown antivirus and patch state, and is usually one nobody administers. If the "
        "managed instances of a region could not be listed, its instances are reported as errors, "
        "never as passing or failing."
    ),
    remediation=Remediation(
        console=(
            "1. Attach an instance profile whose role has the AmazonSSMManagedInstanceCore policy "
            "(or turn on Default Host Management Configuration in Systems Manager > Fleet Manager).\n"
            "2. Make sure the SSM Agent is installed and running (it is on most AWS-provided AMIs) and the "
            "instance can reach the SSM endpoints (internet, NAT or VPC endpoints).\n"
            "3. Check that the instance shows as Online in Systems Manager > Fleet Manager."
        ),
        cli=(
            "aws ec2 associate-iam-instance-profile --instance-id <instance-id> "
            "--iam-instance-profile Name=<profile-with-AmazonSSMManagedInstanceCore> && "
            "aws ssm describe-instance-information --filters Key=InstanceIds,Values=<instance-id>"
        ),
        docs="https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-setting-up-ec2.html",
    ),
    reads=(
        "ec2:DescribeInstances: InstanceId, State.Name",
        "ssm:DescribeInstanceInformation: InstanceId, PingStatus",
    ),
    needs="ec2:DescribeInstances, ssm:DescribeInstanceInformation",
)
def instance_ssm_managed(instance: Resource, ctx: Context) -> Verdict:
    name = _short(instance)
    # Only running instances: a stopped one cannot report, and a pending one has not booted its agent yet.
    if _state(instance) != "running":
        return not_applicable(f"instance {name} is {_state(instance)}")
    managed = _managed(instance, ctx)
    if managed is None:
        return failed(f"instance {name} is not managed by SSM: unknown antivirus/patch state")
    ping = need(managed, "PingStatus")
    if ping != "Online":
        return failed(
            f"instance {name} is an SSM managed instance whose agent is {ping}: unknown antivirus/patch state"
        )
    return passed(f"instance {name} is managed by SSM and its agent is online")

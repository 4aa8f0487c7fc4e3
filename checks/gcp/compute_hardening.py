"""Compute Engine instance hardening: project-wide SSH keys, the serial console, IP forwarding; and VPC
flow logs on subnets."""

from __future__ import annotations

from agent.models import Resource
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
from checks.gcp._compute import (
    SERIAL_PORT_OFF,
    compute_project,
    is_gke_node,
    is_windows,
    metadata_flag,
    org_constraint,
    os_login,
)
from checks.gcp._reads import CE_DOCS, COMPUTE_PROJECTS, INSTANCES, NEEDS, ORG_POLICIES
from checks.gcp._util import label

VPC_DOCS = "https://cloud.google.com/vpc/docs/"
# Subnets reserved for proxies and Private Service Connect carry no VM traffic and cannot log flows.
FLOW_LOG_PURPOSES = ("", "PRIVATE", "PRIVATE_RFC_1918")


@check(
    id="gcp.compute.instance_block_project_ssh_keys",
    title="VM instances do not accept project-wide SSH keys",
    severity=Severity.MEDIUM,
    resource_type="gcp.compute.instance",
    requires=("gcp.compute.project", "gcp.project"),
    rationale=(
        "A project-wide SSH key logs in to every Linux VM of the project; one leaked key opens all of them. "
        "Block project-wide keys on each instance, or use OS Login, which ignores metadata keys "
        "(CIS GCP 4.3)."
    ),
    remediation=Remediation(
        console=(
            "1. Open Compute Engine > VM instances, choose the instance and Edit.\n"
            "2. Under Security and access > SSH keys, tick Block project-wide SSH keys and save "
            "(or enable OS Login for the project)."
        ),
        cli="gcloud compute instances add-metadata <instance> --zone=<zone> --metadata=block-project-ssh-keys=TRUE",
        docs=CE_DOCS + "connect/restrict-ssh-keys#block-keys",
    ),
    reads=(
        INSTANCES + ": metadata.items[block-project-ssh-keys], metadata.items[enable-oslogin], labels, "
        "disks[].licenses, disks[].guestOsFeatures",
        COMPUTE_PROJECTS + ": commonInstanceMetadata.items[enable-oslogin]",
        ORG_POLICIES + ": orgPolicy[constraints/compute.requireOsLogin]",
    ),
    needs=NEEDS,
)
def instance_block_project_ssh_keys(instance: Resource, ctx: Context) -> Verdict:
    name = label(instance)
    if is_windows(instance):
        return not_applicable(f"instance {name} runs Windows: it does not take SSH keys from metadata")
    if is_gke_node(instance):
        return not_applicable(f"instance {name} is a GKE node, managed by GKE")
    if metadata_flag(need(instance, "metadata"), "block-project-ssh-keys"):
        return passed(f"instance {name} blocks project-wide SSH keys")
    on, where = os_login(ctx, instance)
    if on:
        return passed(f"instance {name} uses OS Login ({where}), which ignores metadata SSH keys")
    return failed(f"instance {name} accepts project-wide SSH keys and does not use OS Login ({where})")


@check(
    id="gcp.compute.instance_serial_port_disabled",
    title="VM instances do not allow connections to their serial console",
    severity=Severity.MEDIUM,
    resource_type="gcp.compute.instance",
    requires=("gcp.compute.project", "gcp.project"),
    rationale=(
        "The interactive serial console accepts connections from any IP address, bypassing firewall rules; "
        "anyone with the right key and names can reach the VM's console. It is off unless the metadata "
        "key serial-port-enable turns it on, on the instance or the project; the organization policy "
        "compute.disableSerialPortAccess keeps it off everywhere (CIS GCP 4.5)."
    ),
    remediation=Remediation(
        console=(
            "1. Open Compute Engine > VM instances, choose the instance and Edit.\n"
            "2. Under Remote access, clear Enable connecting to serial ports and save; remove "
            "serial-port-enable from the project metadata too.\n"
            "3. Enforce the organization policy Disable VM serial port access."
        ),
        cli="gcloud compute instances add-metadata <instance> --zone=<zone> --metadata=serial-port-enable=FALSE",
        docs=CE_DOCS + "troubleshooting/troubleshooting-using-serial-console",
    ),
    reads=(
        INSTANCES + ": metadata.items[serial-port-enable]",
        COMPUTE_PROJECTS + ": commonInstanceMetadata.items[serial-port-enable]",
        ORG_POLICIES + ": orgPolicy[constraints/compute.disableSerialPortAccess]",
    ),
    needs=NEEDS,
)
def instance_serial_port_disabled(instance: Resource, ctx: Context) -> Verdict:
    name = label(instance)
    own = metadata_flag(need(instance, "metadata"), "serial-port-enable")
    if own is not None:
        on, where = own, "instance metadata"
    else:
        on = bool(metadata_flag(need(compute_project(ctx, instance), "commonInstanceMetadata"), "serial-port-enable"))
        where = "project metadata"
    if not on:
        return passed(f"instance {name} has the serial console off ({where})")
    try:
        enforced, set_on = org_constraint(ctx, instance, SERIAL_PORT_OFF)
    except MissingInput as exc:
        raise MissingInput(
            f"instance {name} turns the serial console on in {where}; whether "
            f"compute.disableSerialPortAccess blocks it is unknown: {exc}"
        ) from None
    if enforced:
        return passed(
            f"instance {name} asks for the serial console ({where}) but the organization policy "
            f"compute.disableSerialPortAccess on {set_on} keeps it off"
        )
    return failed(f"instance {name} allows connections to its serial console ({where})")


@check(
    id="gcp.compute.instance_ip_forwarding_off",
    title="VM instances do not forward IP packets",
    severity=Severity.MEDIUM,
    resource_type="gcp.compute.instance",
    rationale=(
        "With canIpForward an instance may send and receive packets for addresses that are not its own: "
        "it can route, spoof or intercept traffic inside the network. Only routers and NAT appliances "
        "need it; GKE nodes are created with it (CIS GCP 4.6)."
    ),
    remediation=Remediation(
        console=(
            "1. IP forwarding is fixed at creation: create a replacement instance with IP forwarding Off "
            "(Networking > IP forwarding).\n"
            "2. Move the workload and delete the old instance."
        ),
        cli="gcloud compute instances create <instance> --zone=<zone> --no-can-ip-forward ...",
        docs=VPC_DOCS + "using-routes#canipforward",
    ),
    reads=(INSTANCES + ": canIpForward, labels[goog-gke-node]",),
    needs=NEEDS,
)
def instance_ip_forwarding_off(instance: Resource, ctx: Context) -> Verdict:
    name = label(instance)
    if "canIpForward" in instance.errors:
        need(instance, "canIpForward")
    need(instance, "networkInterfaces")  # the API omits a false canIpForward: first make sure the body was read
    if is_gke_node(instance):
        return not_applicable(f"instance {name} is a GKE node, which needs IP forwarding")
    if instance.attributes.get("canIpForward") is True:  # the API omits it when false
        return failed(f"instance {name} forwards IP packets (canIpForward)")
    return passed(f"instance {name} does not forward IP packets")


@check(
    id="gcp.compute.subnet_flow_logs",
    title="VPC subnets log every flow with metadata",
    severity=Severity.MEDIUM,
    resource_type="gcp.compute.subnetwork",
    rationale=(
        "VPC Flow Logs record the connections to and from VMs: the evidence of what talked to what during "
        "an incident. CIS asks for every flow (sampling 1.0), 5-second aggregation, all metadata and no "
        "filter; turning flow logs on in the console samples only half of the flows (CIS GCP 3.8)."
    ),
    remediation=Remediation(
        console=(
            "1. Open VPC network > VPC networks, choose the network, then the subnet, and Edit.\n"
            "2. Set Flow logs On; under Configure logs set aggregation 5 sec, sample rate 100 and include "
            "metadata, with no filter. Save."
        ),
        cli="gcloud compute networks subnets update <subnet> --region=<region> --enable-flow-logs "
        "--logging-aggregation-interval=interval-5-sec --logging-flow-sampling=1 "
        "--logging-metadata=include-all",
        docs=VPC_DOCS + "using-flow-logs",
    ),
    params={"flow_sampling": 1.0, "aggregation_interval": "INTERVAL_5_SEC", "metadata": "INCLUDE_ALL_METADATA"},
    reads=(
        "GET /v1/{scope}/assets?contentType=RESOURCE&assetTypes=compute.googleapis.com/Subnetwork (Cloud Asset): "
        "purpose, enableFlowLogs, logConfig.enable, logConfig.aggregationInterval, logConfig.flowSampling, "
        "logConfig.metadata, logConfig.filterExpr",
    ),
    needs=NEEDS,
)
def subnet_flow_logs(subnet: Resource, ctx: Context) -> Verdict:
    name = label(subnet)
    for key in ("logConfig", "purpose"):
        if key in subnet.errors:
            need(subnet, key)  # raises: unknown, never pass
    purpose = str(subnet.attributes.get("purpose") or "")
    if purpose not in FLOW_LOG_PURPOSES:
        return not_applicable(f"subnet {name} is reserved for {purpose}, which has no VM flows to log")
    config = subnet.attributes.get("logConfig")
    on = (config or {}).get("enable") is True or (config is None and subnet.attributes.get("enableFlowLogs") is True)
    if not on:
        return failed(f"subnet {name} has VPC flow logs off")
    config = config or {}
    want_rate = float(ctx.params.get("flow_sampling", 1.0))
    gaps = []
    if float(config.get("flowSampling", 0.5)) < want_rate:  # 0.5 is the API default
        gaps.append(f"samples {config.get('flowSampling', 0.5)} of flows")
    interval = str(config.get("aggregationInterval") or "INTERVAL_5_SEC")
    if interval != ctx.params.get("aggregation_interval", "INTERVAL_5_SEC"):
        gaps.append(f"aggregates over {interval}")
    metadata = str(config.get("metadata") or "INCLUDE_ALL_METADATA")
    if metadata != ctx.params.get("metadata", "INCLUDE_ALL_METADATA"):
        gaps.append(f"metadata {metadata}")
    if str(config.get("filterExpr") or "true").strip() not in ("", "true"):
        gaps.append(f"filters flows ({config.get('filterExpr')})")
    if gaps:
        return failed(f"subnet {name} logs flows but {', '.join(gaps)}")
    return passed(f"subnet {name} logs every flow with all metadata")

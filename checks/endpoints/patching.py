"""OS patches: nothing applicable missing, nothing failed, nothing waiting for a reboot, as a patch
manager reports it (SOC 2 CC7.1; ISO 27001 A.8.8; NIST 800-53 SI-2)."""

from __future__ import annotations

from agent.models import Resource, Status
from checks.base import Context, Remediation, Severity, Verdict, check, failed, passed
from checks.endpoints._sources import NEEDS_PATCHES, reads
from checks.endpoints._util import DOCS, STALE, host, known, settle


@check(
    id="endpoint.device.patches_installed",
    title="Devices have no missing, failed or reboot-pending OS patches",
    severity=Severity.HIGH,
    resource_type="endpoint.device",
    rationale=(
        "A patch manager's scan lists the applicable security patches a device lacks. A patch that "
        "failed to install, or waits for a reboot, is not in effect: the device is still exposed."
    ),
    remediation=Remediation(
        console="1. Run the patch baseline's install operation (AWS Systems Manager > Patch Manager > Patch now) "
        "and reboot when it asks.\n2. Investigate failed patches in the node's compliance details.",
        cli="aws ssm send-command --document-name AWS-RunPatchBaseline --parameters Operation=Install "
        "--instance-ids <id>",
        docs=DOCS + "#os-updates",
    ),
    params={**STALE, "allow_pending_reboot": False},
    reads=reads("patches"),
    needs=NEEDS_PATCHES,
)
def patches_installed(device: Resource, ctx: Context) -> Verdict:
    name = host(device)
    state = known(device, "patches", "patch compliance")
    missing, failed_count, pending = state.get("missing"), state.get("failed"), state.get("pending_reboot")
    problems = []
    if isinstance(failed_count, int) and failed_count > 0:
        problems.append(f"{failed_count} failed to install")
    if isinstance(missing, int) and missing > 0:
        problems.append(f"{missing} missing")
    if isinstance(pending, int) and pending > 0 and not ctx.params.get("allow_pending_reboot"):
        problems.append(f"{pending} installed but waiting for a reboot")
    if problems:
        return settle(device, ctx, failed(f"device {name} has OS patches {', '.join(problems)}"), "patches")
    if state.get("compliant") is False:
        return settle(device, ctx, failed(f"device {name} is missing OS patches"), "patches")
    counted = isinstance(missing, int) and isinstance(failed_count, int)
    if counted or state.get("compliant") is True:
        return settle(device, ctx, passed(f"device {name} has no missing or failed OS patches"), "patches")
    return Verdict(
        Status.ERROR, f"device {name}: its patch state has no counts (missing {missing}, failed {failed_count})"
    )

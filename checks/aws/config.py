"""AWS Config: a recorder that records every supported resource keeps configuration history."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed


@check(
    id="aws.config.recorder_enabled",
    title="AWS Config records all supported resources in every region",
    severity=Severity.MEDIUM,
    resource_type="aws.config.settings",
    rationale=(
        "AWS Config keeps the history of how resources were configured, which auditors and "
        "incident responders use to show what changed and when. It only helps if it records every "
        "resource type and is actually running."
    ),
    remediation=Remediation(
        console=(
            "1. Open the AWS Config console in the region.\n"
            "2. Choose Settings > Edit and select Record all current and future resource types.\n"
            "3. Choose a delivery S3 bucket and service role, save, and make sure recording is On."
        ),
        cli=(
            "aws configservice put-configuration-recorder --configuration-recorder "
            "name=default,roleARN=<config-role-arn> --recording-group allSupported=true,"
            "includeGlobalResourceTypes=true && "
            "aws configservice start-configuration-recorder --configuration-recorder-name default"
        ),
        docs="https://docs.aws.amazon.com/config/latest/developerguide/stop-start-recorder.html",
    ),
    reads=(
        "config:DescribeConfigurationRecorders: ConfigurationRecorders[].name, recordingGroup.allSupported",
        (
            "config:DescribeConfigurationRecorderStatus: ConfigurationRecordersStatus[].name, recording, "
            "lastStatus, lastErrorCode"
        ),
    ),
    needs="config:DescribeConfigurationRecorders, config:DescribeConfigurationRecorderStatus",
)
def recorder_enabled(settings: Resource, ctx: Context) -> Verdict:
    recorders = need(settings, "Recorders") or []
    if not recorders:
        return failed(f"region {settings.region} has no AWS Config recorder")
    status = {s.get("name"): s for s in need(settings, "RecorderStatus") or []}
    problems: list[str] = []
    for rec in recorders:
        name = rec.get("name", "?")
        state = status.get(name) or {}
        all_supported = (rec.get("recordingGroup") or {}).get("allSupported") is True
        # recording stays true while every recording event fails (lastStatus Failure, e.g. the
        # service role lost its permissions): then nothing is recorded.
        failing = str(state.get("lastStatus", "")).lower() == "failure"
        recording = state.get("recording") is True
        if all_supported and recording and not failing:
            return passed(f"recorder {name} in {settings.region} records all supported resources")
        if not all_supported:
            problems.append(f"recorder {name} does not record all supported resource types")
        if not recording:
            problems.append(f"recorder {name} is not recording")
        elif failing:
            problems.append(
                f"recorder {name} is recording but its last recording failed "
                f"({state.get('lastErrorCode') or 'no error code'})"
            )
    return failed(f"AWS Config in {settings.region}: " + "; ".join(problems))

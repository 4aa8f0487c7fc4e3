"""CloudWatch Logs: keep log data long enough to serve as evidence."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed


@check(
    id="aws.logs.log_group_retention",
    title="CloudWatch log groups retain events for at least a year",
    severity=Severity.LOW,
    resource_type="aws.logs.log_group",
    rationale=(
        "Investigations and audits look back months. Log groups that expire events quickly lose "
        "the record before anyone asks for it; a year is a common minimum."
    ),
    remediation=Remediation(
        console=(
            "1. Open the CloudWatch console and choose Log groups, then the group.\n"
            "2. Choose Actions > Edit retention setting.\n"
            "3. Pick 365 days or longer (or Never expire) and save."
        ),
        cli="aws logs put-retention-policy --log-group-name <log-group-name> --retention-in-days 365",
        docs="https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html",
    ),
    params={"min_days": 365},
    reads=("logs:DescribeLogGroups: logGroupName, retentionInDays",),
    needs="logs:DescribeLogGroups",
)
def log_group_retention(group: Resource, ctx: Context) -> Verdict:
    name = need(group, "logGroupName")  # proves the item was read, so a missing retention means "never"
    minimum = int(ctx.params.get("min_days", 365))
    days = group.attributes.get("retentionInDays")
    if days is None:  # the API omits the key for groups that never expire
        return passed(f"log group {name} never expires events")
    if int(days) < minimum:
        return failed(f"log group {name} keeps events for {days} days (< {minimum})")
    return passed(f"log group {name} keeps events for {days} days")

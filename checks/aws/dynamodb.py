"""DynamoDB: point-in-time recovery."""

from __future__ import annotations

from agent.models import Resource
from checks.aws._util import described
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed


@check(
    id="aws.dynamodb.pitr_enabled",
    title="DynamoDB tables have point-in-time recovery enabled",
    severity=Severity.MEDIUM,
    resource_type="aws.dynamodb.table",
    rationale=(
        "Point-in-time recovery lets a table be restored to any second in the recovery window, "
        "which undoes accidental writes and deletes that on-demand backups would miss."
    ),
    remediation=Remediation(
        console=(
            "1. Open the DynamoDB console and choose Tables, then the table.\n"
            "2. On Backups, under Point-in-time recovery, choose Edit.\n"
            "3. Turn on point-in-time recovery and save."
        ),
        cli="aws dynamodb update-continuous-backups --table-name <table-name> "
        "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true",
        docs="https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html",
    ),
    reads=(
        "dynamodb:ListTables/DescribeTable: TableName",
        (
            "dynamodb:DescribeContinuousBackups: "
            "ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus"
        ),
    ),
    needs="dynamodb:ListTables, dynamodb:DescribeTable, dynamodb:DescribeContinuousBackups",
)
def pitr_enabled(table: Resource, ctx: Context) -> Verdict:
    described(table, "Table")
    name = table.attributes.get("TableName") or table.id.rsplit("/", 1)[-1]
    backups = need(table, "ContinuousBackups") or {}
    status = (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
    if status == "ENABLED":
        return passed(f"table {name} has point-in-time recovery enabled")
    return failed(f"table {name} has point-in-time recovery {str(status or 'off').lower()}")

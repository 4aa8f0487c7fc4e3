"""Table rows that need a few lines of their own: IAM (credential report, authorization details),
per-region settings, and VPCs joined to their flow logs. Each function is (unit, row) -> resources
and raises botocore errors for a failed listing (the unit turns them into CollectionErrors)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from agent.models import Resource
from collectors.aws.normalise import policy_document
from collectors.aws.unit import Detail, ResourceType, Unit, error_text

__all__ = [
    "REPORT_POLLS",
    "REPORT_SLEEP",
    "accessanalyzer_settings",
    "backup_settings",
    "config_settings",
    "ec2_settings",
    "guardduty_settings",
    "iam_account",
    "iam_groups",
    "iam_policies",
    "iam_users",
    "vpcs",
]

REPORT_POLLS = 40  # the report usually takes a few seconds; give up after ~20 s
REPORT_SLEEP = 0.5
ROOT_ROW = "<root_account>"
_BOTO = (ClientError, BotoCoreError)


class ReportNotReady(Exception):
    """The credential report was still being generated after REPORT_POLLS polls."""


def _text(exc: BaseException) -> str:
    code, message = error_text(exc)
    return f"{code}: {message}"


def _memo(unit: Unit, key: str, fn: Callable[[Unit], Any]) -> tuple[Any, BaseException | None]:
    """Several rows of the IAM unit share one call: run it once, remember value or error."""
    if key not in unit.cache:
        try:
            unit.cache[key] = (fn(unit), None)
        except (*_BOTO, ReportNotReady) as exc:
            unit.cache[key] = (None, exc)
    value, error = unit.cache[key]
    return value, error


# -- IAM -------------------------------------------------------------------------------------
def _credential_report(unit: Unit) -> list[dict[str, str]]:
    unit.call("GenerateCredentialReport")
    for _ in range(REPORT_POLLS):
        try:
            content = unit.call("GetCredentialReport")["Content"]
        except ClientError as exc:
            code = error_text(exc)[0]
            if code not in ("ReportInProgress", "ReportNotPresent", "ReportExpired"):
                raise
            if code != "ReportInProgress":
                unit.call("GenerateCredentialReport")
            time.sleep(REPORT_SLEEP)
            continue
        text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
        return list(csv.DictReader(io.StringIO(text)))
    raise ReportNotReady(f"credential report not ready after {REPORT_POLLS} polls")


def _authorization_details(unit: Unit) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"UserDetailList": [], "GroupDetailList": [], "Policies": []}
    params = {"Filter": ["User", "Group", "LocalManagedPolicy"]}
    for page in unit.raw_pages("GetAccountAuthorizationDetails", params):
        for key, items in out.items():
            items.extend(page.get(key, []))
    for entry in out["UserDetailList"]:
        for p in entry.get("UserPolicyList", []):
            p["PolicyDocument"] = policy_document(p.get("PolicyDocument"))
    for entry in out["GroupDetailList"]:
        for p in entry.get("GroupPolicyList", []):
            p["PolicyDocument"] = policy_document(p.get("PolicyDocument"))
    for policy in out["Policies"]:
        for version in policy.get("PolicyVersionList", []):
            version["Document"] = policy_document(version.get("Document"))
    return out


_SUMMARY = Detail("AccountSummary", "GetAccountSummary", lambda _: {}, "SummaryMap")
_PASSWORD_POLICY = Detail(
    "PasswordPolicy",
    "GetAccountPasswordPolicy",
    lambda _: {},
    "PasswordPolicy",
    not_configured=frozenset({"NoSuchEntity"}),
)


def iam_account(unit: Unit, rt: ResourceType) -> list[Resource]:
    attrs: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for d in (_SUMMARY, _PASSWORD_POLICY):
        ok, value = unit.detail(d, {})
        (attrs if ok else errors)[d.key] = value
    rows, exc = _memo(unit, "report", _credential_report)
    if exc is not None:
        errors["RootCredentials"] = _text(exc)
    else:
        attrs["RootCredentials"] = next((r for r in rows if r.get("user") == ROOT_ROW), None)
    arn = f"arn:{unit.account.partition}:iam::{unit.account.account_id}:root"
    return [unit.resource(rt.type, arn, attrs, name=unit.account.account_id, errors=errors)]


def iam_users(unit: Unit, rt: ResourceType) -> list[Resource]:
    rows, report_exc = _memo(unit, "report", _credential_report)
    details, auth_exc = _memo(unit, "authorization", _authorization_details)
    if report_exc is not None and auth_exc is not None:
        unit.add_error(rt, report_exc, "GetCredentialReport")
        unit.add_error(rt, auth_exc, "GetAccountAuthorizationDetails")
        return []
    users: dict[str, dict[str, Any]] = {}
    for row in rows or []:
        if row.get("user") != ROOT_ROW:
            users[row["user"]] = {"UserName": row["user"], "Arn": row.get("arn", ""), "Credentials": row}
    for entry in (details or {}).get("UserDetailList", []):
        users.setdefault(entry["UserName"], {}).update(entry)
    out = []
    for name, attrs in sorted(users.items()):
        errors: dict[str, str] = {}
        if report_exc is not None:
            errors["Credentials"] = _text(report_exc)
        elif "Credentials" not in attrs:
            errors["Credentials"] = "NotInReport: user created after the credential report"
        if auth_exc is not None:
            errors["AuthorizationDetails"] = _text(auth_exc)
        out.append(unit.resource(rt.type, attrs["Arn"], attrs, name=name, errors=errors))
    return out


def _authorization_items(unit: Unit, rt: ResourceType, key: str, name_key: str) -> list[Resource]:
    details, exc = _memo(unit, "authorization", _authorization_details)
    if exc is not None:
        unit.add_error(rt, exc, "GetAccountAuthorizationDetails")
        return []
    return [unit.resource(rt.type, item["Arn"], item, name=item.get(name_key, "")) for item in details[key]]


def iam_policies(unit: Unit, rt: ResourceType) -> list[Resource]:
    return _authorization_items(unit, rt, "Policies", "PolicyName")


def iam_groups(unit: Unit, rt: ResourceType) -> list[Resource]:
    return _authorization_items(unit, rt, "GroupDetailList", "GroupName")


# -- per-region settings (one resource per account and region) --------------------------------
def _settings(
    unit: Unit, rt: ResourceType, attrs: dict[str, Any], errors: dict[str, str] | None = None
) -> list[Resource]:
    prefix = rt.type.split(".")[1]
    return [unit.resource(rt.type, unit.settings_id(prefix), attrs, name=f"{prefix} settings", errors=errors)]


def accessanalyzer_settings(unit: Unit, rt: ResourceType) -> list[Resource]:
    return _settings(unit, rt, {"Analyzers": list(unit.pages("ListAnalyzers", "analyzers"))})


def guardduty_settings(unit: Unit, rt: ResourceType) -> list[Resource]:
    detectors = []
    for detector_id in list(unit.pages("ListDetectors", "DetectorIds")):
        answer = unit.call("GetDetector", DetectorId=detector_id)
        answer.pop("ResponseMetadata", None)
        detectors.append({**answer, "DetectorId": detector_id})
    return _settings(unit, rt, {"Detectors": detectors})


def config_settings(unit: Unit, rt: ResourceType) -> list[Resource]:
    recorders = unit.call("DescribeConfigurationRecorders")["ConfigurationRecorders"]
    status = unit.call("DescribeConfigurationRecorderStatus")["ConfigurationRecordersStatus"]
    return _settings(unit, rt, {"Recorders": recorders, "RecorderStatus": status})


def ec2_settings(unit: Unit, rt: ResourceType) -> list[Resource]:
    enabled = unit.call("GetEbsEncryptionByDefault")["EbsEncryptionByDefault"]
    return _settings(unit, rt, {"EbsEncryptionByDefault": bool(enabled)})


def backup_settings(unit: Unit, rt: ResourceType) -> list[Resource]:
    attrs: dict[str, Any] = {}
    errors: dict[str, str] = {}
    try:
        attrs["Plans"] = list(unit.pages("ListBackupPlans", "BackupPlansList"))
        selections = {}
        for plan in attrs["Plans"]:
            plan_id = plan["BackupPlanId"]
            selections[plan_id] = list(
                unit.pages("ListBackupSelections", "BackupSelectionsList", {"BackupPlanId": plan_id})
            )
        attrs["Selections"] = selections
    except _BOTO as exc:
        errors["Selections" if "Plans" in attrs else "Plans"] = _text(exc)
    try:
        attrs["ProtectedResources"] = list(unit.pages("ListProtectedResources", "Results"))
    except _BOTO as exc:
        errors["ProtectedResources"] = _text(exc)
    return _settings(unit, rt, attrs, errors)


# -- VPCs with their flow logs (listed once per region, joined by ResourceId) ----------------
def vpcs(unit: Unit, rt: ResourceType) -> list[Resource]:
    items = list(unit.pages("DescribeVpcs", "Vpcs", page_size=rt.page_size))
    errors: dict[str, str] = {}
    by_vpc: dict[str, list[dict[str, Any]]] = {}
    try:
        for flow_log in unit.pages("DescribeFlowLogs", "FlowLogs", page_size=rt.page_size):
            by_vpc.setdefault(flow_log.get("ResourceId", ""), []).append(flow_log)
    except _BOTO as exc:
        errors["FlowLogs"] = _text(exc)
    out = []
    for vpc in items:
        attrs = dict(vpc) if errors else {**vpc, "FlowLogs": by_vpc.get(vpc["VpcId"], [])}
        out.append(unit.resource(rt.type, rt.id(vpc, unit), attrs, name=_tag_name(vpc), errors=errors))
    return out


def _tag_name(item: dict[str, Any]) -> str:
    return next((t["Value"] for t in item.get("Tags") or [] if t.get("Key") == "Name"), "")

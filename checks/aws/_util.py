"""Parsing helpers shared by the AWS checks. Pure functions over plain data; no AWS calls.

The registry skips this module (leading underscore), so nothing here is discovered as a check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from agent.models import Resource, Snapshot
from checks.base import MissingInput, need

__all__ = [
    "PAB_FLAGS",
    "account_pab",
    "as_list",
    "attr_or_detail",
    "auth_detail",
    "cred_bool",
    "cred_time",
    "days_since",
    "described",
    "effective_pab",
    "is_running",
    "matches_product",
    "open_ingress",
    "parse_policy",
    "parse_time",
    "public_acl_grants",
    "public_statements",
    "statements",
]

# Credential-report placeholders that mean "no date" rather than a parse failure.
_NO_DATE = {"", "n/a", "no_information", "not_supported", "none", "null"}


# -- time --------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO string / datetime, or None for the report's placeholders.

    Raises ValueError for anything else, so a malformed date is an error, not a silent 'never'.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if text.lower() in _NO_DATE:
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    ts = datetime.fromisoformat(text)
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def days_since(ts: datetime, now: datetime) -> int:
    """Whole days from ``ts`` to ``now`` (negative if ``ts`` is in the future)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return (now - ts).days


def cred_time(row: Mapping[str, Any], column: str) -> datetime | None:
    """A date column of a credential-report row; a missing column is missing input."""
    if column not in row:
        raise MissingInput(f"credential report has no column {column}")
    try:
        return parse_time(row[column])
    except ValueError as exc:
        raise MissingInput(f"credential report column {column} is not a date: {row[column]!r}") from exc


def cred_bool(row: Mapping[str, Any], column: str) -> bool:
    """A "true"/"false" column of a credential-report row; anything else is missing input."""
    if column not in row:
        raise MissingInput(f"credential report has no column {column}")
    value = row[column]
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    # "not_supported" appears for the root row's password_enabled; treat it as no password.
    if text in ("not_supported", "n/a"):
        return False
    raise MissingInput(f"credential report column {column} is not true/false: {value!r}")


# -- small helpers -----------------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """Policy fields may be a scalar or a list; always get a list."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def is_running(instance: Resource) -> bool:
    state = need(instance, "State")
    return str((state or {}).get("Name", "")).lower() in ("running", "pending")


def attr_or_detail(resource: Resource, key: str) -> Mapping[str, Any]:
    """A nested detail dict under ``key`` if the collector stored one, else the top-level attributes.

    The contract lists some API shapes both as the attributes and as a detail key (ACM's
    ``Certificate``); this reads either form and still errors when the detail call failed.
    """
    if key in resource.errors or key in resource.attributes:
        value = need(resource, key)
        if not isinstance(value, Mapping):
            raise MissingInput(f"{key} is not an object: {type(value).__name__}")
        return value
    return resource.attributes


def described(resource: Resource, key: str) -> None:
    """Raise when the describe call that fills the attributes (DescribeKey, DescribeCluster...) failed.

    The collector then keeps only the listing item and records the failure under ``key``; saying so
    is clearer than reporting each attribute the check reads next as "not collected".
    """
    if key in resource.errors:
        raise MissingInput(f"{key} could not be read: {resource.errors[key]}")


def auth_detail(user: Resource, key: str) -> Any:
    """An attribute from GetAccountAuthorizationDetails; errors when that call failed."""
    if "AuthorizationDetails" in user.errors:
        raise MissingInput(f"authorization details could not be read: {user.errors['AuthorizationDetails']}")
    return need(user, key)


# -- IAM / resource policies -------------------------------------------------------------------


def parse_policy(document: Any) -> Mapping[str, Any]:
    """A policy document as a dict; IAM may hand it back URL-encoded JSON text."""
    if isinstance(document, Mapping):
        return document
    if isinstance(document, str):
        text = document if document.lstrip().startswith("{") else unquote(document)
        parsed = json.loads(text)
        if isinstance(parsed, Mapping):
            return parsed
    raise MissingInput(f"policy document is not a JSON object: {str(document)[:60]!r}")


def statements(document: Any) -> list[Mapping[str, Any]]:
    if document is None:
        return []
    stmts = parse_policy(document).get("Statement", [])
    return [s for s in as_list(stmts) if isinstance(s, Mapping)]


def _is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return "*" in as_list(principal.get("AWS"))
    return False


def _grants_everyone(stmt: Mapping[str, Any]) -> bool:
    """Principal * (or {"AWS": "*"}), or NotPrincipal: Allow + NotPrincipal grants every principal
    except the ones named, which the IAM docs warn is everyone else on the internet."""
    return _is_everyone(stmt.get("Principal")) or "NotPrincipal" in stmt


# Condition keys whose positive match pins a statement to known callers or networks, by the kind
# of value they hold (a wildcard in the part that names the account lets strangers match).
_ACCOUNT_KEYS = {
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:sourcevpce",
    "aws:sourcevpc",
}
_ARN_KEYS = {"aws:sourcearn", "aws:principalarn"}
_RESTRICTING_KEYS = _ACCOUNT_KEYS | _ARN_KEYS | {"aws:userid", "aws:principalorgpaths", "aws:sourceip"}
_EVERYWHERE = {"*", "0.0.0.0/0", "::/0"}
_WILDCARDS = ("*", "?")


def _pins(key: str, value: str) -> bool:
    """Whether one condition value limits ``key`` to callers the owner knows."""
    if value in _EVERYWHERE or not value:
        return False
    if key in _ACCOUNT_KEYS:
        return not any(w in value for w in _WILDCARDS)
    if key in _ARN_KEYS:
        parts = value.split(":", 5)
        if len(parts) == 6 and parts[4]:  # arn:partition:service:region:ACCOUNT:resource
            return not any(w in parts[4] for w in _WILDCARDS)
        return not any(w in value for w in _WILDCARDS)  # no account field (S3): the whole ARN
    if key == "aws:userid":  # "AROA...:*": a role's sessions; a fixed head is a real limit
        return not value.startswith(_WILDCARDS)
    if key == "aws:principalorgpaths":  # "o-abc/r-ab12/*": the organization must be named
        return not any(w in value.split("/", 1)[0] for w in _WILDCARDS)
    return True  # aws:SourceIp: a range narrower than the whole internet


def _has_restricting_condition(stmt: Mapping[str, Any]) -> bool:
    condition = stmt.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    for operator, pairs in condition.items():
        op = str(operator).lower()
        # Negated operators and ...IfExists let callers without the key through, and so does
        # ForAllValues (true when the key is absent from the request): not a restriction.
        if "not" in op or op.endswith("ifexists") or op.startswith("forallvalues:") or not isinstance(pairs, Mapping):
            continue
        for key, values in pairs.items():
            name = str(key).lower()
            vals = [str(v) for v in as_list(values)]
            if name in _RESTRICTING_KEYS and vals and all(_pins(name, v) for v in vals):
                return True
    return False


def public_statements(document: Any) -> list[Mapping[str, Any]]:
    """Allow statements open to any principal with no condition that narrows who can use them."""
    return [
        s
        for s in statements(document)
        if s.get("Effect") == "Allow" and _grants_everyone(s) and not _has_restricting_condition(s)
    ]


# -- S3 public access --------------------------------------------------------------------------

PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def account_pab(snapshot: Snapshot, account: str) -> Mapping[str, Any]:
    """The account-level public access block flags (empty dict when none is configured)."""
    found = [r for r in snapshot.of_type("aws.s3.account") if r.account == account]
    if not found:
        raise MissingInput(f"S3 account settings of {account} are not in this snapshot")
    return need(found[0], "PublicAccessBlock") or {}


def effective_pab(bucket: Resource, snapshot: Snapshot, flag: str) -> str | None:
    """Where ``flag`` is on for this bucket: "bucket", "account" or None.

    Reads the account setting only when the bucket's own does not settle it, so a failed
    account read only matters when it could change the answer.
    """
    own = need(bucket, "PublicAccessBlock") or {}
    if own.get(flag) is True:
        return "bucket"
    if account_pab(snapshot, bucket.account).get(flag) is True:
        return "account"
    return None


def public_acl_grants(acl: Mapping[str, Any] | None) -> list[str]:
    """Descriptions like "AllUsers:READ" for grants to everyone or to any AWS account."""
    out: list[str] = []
    for grant in (acl or {}).get("Grants", []) or []:
        grantee = grant.get("Grantee", {}) or {}
        uri = grantee.get("URI", "")
        if uri in (ALL_USERS, AUTH_USERS):
            out.append(f"{uri.rsplit('/', 1)[-1]}:{grant.get('Permission', '?')}")
    return out


# -- EC2 security groups -----------------------------------------------------------------------

_OPEN_V4 = "0.0.0.0/0"
_OPEN_V6 = "::/0"


def _covers_port(perm: Mapping[str, Any], port: int) -> bool:
    proto = str(perm.get("IpProtocol", "")).lower()
    if proto in ("-1", "all"):
        return True
    if proto not in ("tcp", "6"):
        return False
    lo, hi = perm.get("FromPort"), perm.get("ToPort")
    if lo is None or hi is None:
        return True  # tcp without a range means every port
    # A range of -1 is also "all ports" for tcp in some API answers.
    if lo == -1 or hi == -1:
        return True
    return int(lo) <= port <= int(hi)


def _open_sources(perm: Mapping[str, Any]) -> list[str]:
    v4 = [r.get("CidrIp") for r in perm.get("IpRanges", []) or [] if r.get("CidrIp") == _OPEN_V4]
    v6 = [r.get("CidrIpv6") for r in perm.get("Ipv6Ranges", []) or [] if r.get("CidrIpv6") == _OPEN_V6]
    return [str(x) for x in v4 + v6]


def open_ingress(permissions: Iterable[Mapping[str, Any]], ports: Iterable[int]) -> dict[int, list[str]]:
    """port -> the internet-wide sources that may reach it (only ports that are open)."""
    found: dict[int, list[str]] = {}
    perms = list(permissions or [])
    for port in ports:
        for perm in perms:
            sources = _open_sources(perm)
            if sources and _covers_port(perm, int(port)):
                found.setdefault(int(port), [])
                found[int(port)].extend(s for s in sources if s not in found[int(port)])
    return found


# -- endpoint software -------------------------------------------------------------------------


def _needle(product: str) -> re.Pattern[str]:
    # Word-boundary match so "ESET" does not match "preset" but does match "ESET Endpoint Security".
    return re.compile(r"(?<![a-z0-9])" + re.escape(product.lower()) + r"(?![a-z0-9])")


def matches_product(names: Iterable[str], products: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(application name, product) pairs where a product appears in the installed name."""
    patterns = [(p, _needle(p)) for p in products if p]
    for name in names:
        low = str(name).lower()
        for product, pattern in patterns:
            if pattern.search(low):
                yield str(name), product
                break

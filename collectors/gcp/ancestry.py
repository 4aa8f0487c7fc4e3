"""What a project inherits from the folders and organization above it. Pure functions over plain data.

Audit configurations, organization policies, log sinks with ``includeChildren`` and essential contacts
set on an organization or folder apply to every project below it, but Cloud Asset reports them on
the ancestor. The collector gathers them (from the scope, and from the organization when the scope
is narrower) and this module attaches to each ``gcp.project``:

- ``ancestorAuditConfigs``: ``[{"ancestor": "folders/1", "auditConfigs": [...]}]``
- ``ancestorLogSinks`` / ``ancestorEssentialContacts``: the ancestors' sinks / contacts, each with
  ``_ancestor`` (where it is set)
- ``effectiveOrgPolicies``: ``{"constraints/compute.requireOsLogin": {"enforced": true, "setOn": "folders/1"}}``

An ancestor that could not be read leaves an ``errors`` entry on the project naming it, so a check
that depends on it reports ``error`` instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["WATCHED_CONSTRAINTS", "Coverage", "Hierarchy", "effective_boolean", "inherited"]

# Boolean organization-policy constraints the checks read (nearest policy set wins).
WATCHED_CONSTRAINTS = ("constraints/compute.requireOsLogin", "constraints/compute.disableSerialPortAccess")

IAM, ORG_POLICY, SETTINGS = "IAM_POLICY", "ORG_POLICY", "RESOURCE"


@dataclass
class Coverage:
    """Which parts of the hierarchy one kind of listing reached: the parents it listed without error
    (relative names), and why the others failed."""

    roots: set[str] = field(default_factory=set)
    failure: str = ""

    def covers(self, chain: Sequence[str], index: int) -> bool:
        """Whether ``chain[index]`` lies under a listed root (``chain`` runs from a project upwards)."""
        return any(root in chain[index:] for root in self.roots)


@dataclass
class Hierarchy:
    """What was gathered about organizations and folders (keys are relative names)."""

    iam: dict[str, dict[str, Any]] = field(default_factory=dict)  # ancestor -> IAM policy
    org_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # org/folder/project -> policies
    sinks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # ancestor -> LogSink data
    contacts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # ancestor -> Contact data
    coverage: dict[str, Coverage] = field(
        default_factory=lambda: {IAM: Coverage(), ORG_POLICY: Coverage(), SETTINGS: Coverage()}
    )


def _unread(cov: Coverage, chain: Sequence[str], indexes: Iterable[int]) -> list[str]:
    return [chain[i] for i in indexes if not cov.covers(chain, i)]


def _why(cov: Coverage, unread: list[str], what: str) -> str:
    reason = cov.failure or "outside the configured scope and not listed"
    return f"{what} of {', '.join(unread)} could not be read: {reason}"


def effective_boolean(chain: Sequence[str], constraint: str, h: Hierarchy) -> tuple[dict[str, Any] | None, str]:
    """The effective value of a boolean constraint for the first resource of ``chain``: the nearest
    policy that sets it wins (``booleanPolicy``; ``restoreDefault`` means the default, not enforced);
    a policy with neither inherits. Returns (value, "") or (None, why it is unknown)."""
    cov = h.coverage[ORG_POLICY]
    for i, node in enumerate(chain):
        if not cov.covers(chain, i):
            return None, _why(cov, [node], f"organization policies ({constraint})")
        for policy in h.org_policies.get(node, []):
            if policy.get("constraint") != constraint:
                continue
            if "booleanPolicy" in policy:
                enforced = (policy.get("booleanPolicy") or {}).get("enforced") is True
                return {"enforced": enforced, "setOn": node}, ""
            if "restoreDefault" in policy:
                return {"enforced": False, "setOn": f"{node} (restoreDefault)"}, ""
    return {"enforced": False, "setOn": "default"}, ""


def _tagged(items: Iterable[Mapping[str, Any]], ancestor: str) -> list[dict[str, Any]]:
    return [{**item, "_ancestor": ancestor} for item in items]


def inherited(chain: Sequence[str], h: Hierarchy) -> tuple[dict[str, Any], dict[str, str]]:
    """(attributes, errors) to add to the project whose ancestry (itself first) is ``chain``."""
    attrs: dict[str, Any] = {}
    errors: dict[str, str] = {}
    above = range(1, len(chain))

    unread = _unread(h.coverage[IAM], chain, above)
    attrs["ancestorAuditConfigs"] = [
        {"ancestor": chain[i], "auditConfigs": list(h.iam[chain[i]].get("auditConfigs") or [])}
        for i in above
        if chain[i] in h.iam and h.coverage[IAM].covers(chain, i)
    ]
    if unread:
        errors["ancestorAuditConfigs"] = _why(h.coverage[IAM], unread, "IAM policies (audit configs)")

    unread = _unread(h.coverage[SETTINGS], chain, above)
    read = [i for i in above if h.coverage[SETTINGS].covers(chain, i)]
    attrs["ancestorLogSinks"] = [s for i in read for s in _tagged(h.sinks.get(chain[i], []), chain[i])]
    attrs["ancestorEssentialContacts"] = [c for i in read for c in _tagged(h.contacts.get(chain[i], []), chain[i])]
    if unread:
        errors["ancestorLogSinks"] = _why(h.coverage[SETTINGS], unread, "log sinks")
        errors["ancestorEssentialContacts"] = _why(h.coverage[SETTINGS], unread, "essential contacts")

    effective: dict[str, Any] = {}
    for constraint in WATCHED_CONSTRAINTS:
        value, why = effective_boolean(chain, constraint, h)
        if value is None:
            errors[f"orgPolicy:{constraint}"] = why
        else:
            effective[constraint] = value
    attrs["effectiveOrgPolicies"] = effective
    return attrs, errors

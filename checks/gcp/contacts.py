"""Essential Contacts: someone receives Google's legal, security, suspension and technical notices (CIS GCP 1.16)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent.models import Resource
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, passed

CATEGORIES = ("LEGAL", "SECURITY", "SUSPENSION", "TECHNICAL")


def _covered(contacts: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """category -> the emails receiving it (a contact whose address failed validation counts for none)."""
    out: dict[str, list[str]] = {}
    for c in contacts:
        if str(c.get("validationState", "")) == "INVALID":
            continue
        categories = {str(x) for x in c.get("notificationCategorySubscriptions") or []}
        for cat in CATEGORIES if "ALL" in categories else categories & set(CATEGORIES):
            out.setdefault(cat, []).append(str(c.get("email")))
    return out


@check(
    id="gcp.essentialcontacts.contacts_configured",
    title="Essential contacts receive legal, security, suspension and technical notices",
    severity=Severity.LOW,
    resource_type="gcp.project",
    requires=("gcp.essentialcontacts.contact",),
    rationale=(
        "Google sends security advisories, suspension warnings and legal notices to essential contacts; "
        "without them the notices go to whoever holds Owner or Organization Administrator, who may have "
        "left. Contacts set on the organization or a folder apply to the projects below (CIS GCP 1.16)."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > Essential Contacts for the organisation.\n"
            "2. Add a monitored address (a team list) for Legal, Security, Suspension and Technical, or All."
        ),
        cli="gcloud essential-contacts create --email=security@example.com "
        "--notification-categories=legal,security,suspension,technical --organization=<org-id>",
        docs="https://cloud.google.com/resource-manager/docs/manage-essential-contacts",
    ),
    reads=(
        "GET /v1/{parent}/assets?contentType=RESOURCE&assetTypes=essentialcontacts.googleapis.com/Contact "
        "(Cloud Asset): email, notificationCategorySubscriptions, validationState (on the project and its "
        "folders and organization)",
    ),
    needs="roles/cloudasset.viewer (Cloud Asset Viewer) on the scope, and on the organization for inherited contacts",
)
def contacts_configured(project: Resource, ctx: Context) -> Verdict:
    name = str(project.attributes.get("projectId") or project.account)
    own = [c.attributes for c in ctx.snapshot.of_type("gcp.essentialcontacts.contact") if c.account == project.account]
    covered = _covered(own)
    missing = [c for c in CATEGORIES if c not in covered]
    if missing and "ancestorEssentialContacts" in project.errors:
        raise MissingInput(
            f"project {name}'s own contacts leave out {', '.join(missing)} and "
            f"{project.errors['ancestorEssentialContacts']}"
        )
    if missing:
        covered = _covered([*own, *(project.attributes.get("ancestorEssentialContacts") or [])])
        missing = [c for c in CATEGORIES if c not in covered]
    if missing:
        return failed(f"project {name}: no valid essential contact receives {', '.join(missing)} notices")
    return passed(f"project {name}: " + "; ".join(f"{c} to {', '.join(sorted(set(covered[c])))}" for c in CATEGORIES))

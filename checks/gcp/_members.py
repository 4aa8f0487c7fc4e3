"""Who an IAM member is: a person (or set of people), a service account, or a Google service agent.

The registry skips this module (leading underscore). Member syntax:
https://cloud.google.com/iam/docs/principal-identifiers
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from checks.gcp._util import bindings

__all__ = ["is_admin_role", "is_person", "is_service_account", "is_service_agent", "roles_by_member"]

BASIC_ROLES = ("roles/owner", "roles/editor")

# Google-owned projects whose service accounts are service agents: Google creates them in its own
# projects, grants them roles in yours (Editor for some) and runs them; they are not yours to manage.
# https://cloud.google.com/iam/docs/service-agents
_AGENT_PROJECTS = frozenset(
    {
        "compute-system",
        "container-engine-robot",
        "containerregistry",
        "dataflow-service-producer-prod",
        "dataproc-accounts",
        "gs-project-accounts",
        "serverless-robot-prod",
        "cloud-ml.google.com",
        "cloud-redis",
        "cloud-tpu",
        "cloudcomposer-accounts",
        "firebase-rules",
        "gcf-admin-robot",
        "genomics-api.google.com",
        "sourcerepo-service-accounts",
        "cloud-filer",
        "endpoints-portal",
        "remotebuildexecution",
        "container-analysis",
        "firebase-sa-management",
    }
)
# service-PROJECT_NUMBER@..., service-org-ORG_NUMBER@..., service-folder-FOLDER_NUMBER@...
_AGENT_LOCAL = re.compile(r"^service-((org|folder)-)?\d+$")


def _email(member: str) -> str:
    for prefix in ("deleted:serviceAccount:", "serviceAccount:"):
        if member.startswith(prefix):
            return member.removeprefix(prefix).split("?", 1)[0].lower()
    return ""


def is_service_account(member: str) -> bool:
    """A service account of any kind, deleted ones included (they can be undeleted for 30 days)."""
    return bool(_email(member))


def is_service_agent(member: str) -> bool:
    """A Google-managed service agent. The default Compute Engine and App Engine service accounts
    (PROJECT_NUMBER-compute@developer..., PROJECT_ID@appspot...) are *not*: they run your code and are
    yours to restrict (CIS GCP 1.5, 4.1)."""
    email = _email(member)
    if not email:
        return False
    local, _, domain = email.partition("@")
    if domain == "system.gserviceaccount.com":
        return True
    if domain == "cloudservices.gserviceaccount.com":  # Google APIs service agent, PROJECT_NUMBER@
        return local.isdigit()
    if not domain.endswith(".iam.gserviceaccount.com"):
        return False
    project = domain.removesuffix(".iam.gserviceaccount.com")
    if project.startswith("gcp-sa-"):  # e.g. service-123@gcp-sa-pubsub, p123-abcd@gcp-sa-cloud-sql
        return True
    return project in _AGENT_PROJECTS and bool(_AGENT_LOCAL.match(local))


def is_person(member: str) -> bool:
    """A person or a set of people: every member that is not a service account, whatever its
    syntax (user:, group:, domain:, deleted:user:, principal:// and principalSet:// of workforce
    pools, allUsers, projectOwner:...)."""
    return not is_service_account(member)


def is_admin_role(role: str) -> bool:
    """Owner, Editor, or any role whose name says it administers something (CIS GCP 1.5: roles
    containing Admin or admin, custom roles included)."""
    return role in BASIC_ROLES or "admin" in role.rsplit("/", 1)[-1].lower()


def roles_by_member(policy: Mapping[str, Any], roles: Iterable[str] | None = None) -> dict[str, set[str]]:
    """member -> the roles it holds in ``policy`` (only ``roles`` when given). A binding with an IAM
    condition still grants its role (for the time or resources the condition allows)."""
    wanted = set(roles) if roles is not None else None
    out: dict[str, set[str]] = {}
    for role, member in bindings(policy):
        if wanted is None or role in wanted:
            out.setdefault(member, set()).add(role)
    return out

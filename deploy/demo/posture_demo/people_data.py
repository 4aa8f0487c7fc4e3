"""The demo's staff roster and identity map, matching the identities the other demo fakes serve: the
Okta org (acme.example), the Google Workspace customer (northwind.example), the Entra ID tenant
(contoso.example), the GitHub organisation (logins without emails) and the AWS IAM users of every
account of the organisation (alice, bob and carol with console passwords, ci-deploy with keys only).

The roster's email domain is the Okta org's; the identity map joins the two other domains to it, the
GitHub logins and the IAM user names to their people, names ci-deploy a service account of the
platform team and the Workspace admin account alice's. Dates are relative to the day the files are
written, so the demo has the same story whenever it runs:

- dave and frank left (30 and 60 days ago): dave is still active in Okta, Google Workspace, Entra ID and
  GitHub; frank is suspended in Okta (looks done) but still active in Google Workspace;
  grace, heidi and oscar left long ago and their accounts are suspended or archived (pass);
- gina (Okta, Help Desk administrator), release-bot (GitHub) and Gus (an Entra ID guest) belong to nobody
  on the roster; ci-deploy (IAM, keys only) is the platform team's service account (pass);
- bob, carol, erin, peggy and trent have an active identity without MFA somewhere;
- mallory has no background check recorded; peggy joined 45 days ago without security training, judy
  never had it, and carol's is older than a year; hank starts next week (nothing due yet).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["DEMO_DOMAIN", "EXPECTED_FAILURES", "roster_rows", "source_config", "write_files"]

DEMO_DOMAIN = "acme.example"
_COLUMNS = (
    "email",
    "name",
    "start_date",
    "end_date",
    "background_check_date",
    "security_training_date",
    "employment_type",
    "manager",
)

# local part, name, start (days ago; negative: in the future), end (days ago), background check (days ago),
# security training (days ago), employment type, manager (local part)
_ROWS: tuple[tuple[str, str, int, int | None, int | None, int | None, str, str], ...] = (
    ("alice", "Alice Admin", 700, None, 710, 100, "employee", "ivan"),
    ("bob", "Bob Builder", 600, None, 610, 200, "contractor", "alice"),
    ("carol", "Carol Global", 800, None, 805, 400, "employee", "ivan"),
    ("dave", "Dave Departed", 800, 30, 810, 150, "employee", "alice"),
    ("erin", "Erin Engineer", 500, None, 505, 30, "employee", "alice"),
    ("frank", "Frank Former", 300, 60, 305, 200, "employee", "ivan"),
    ("grace", "Grace Gone", 1000, 400, 1005, 500, "employee", "ivan"),
    ("hank", "Hank New", -7, None, None, None, "employee", "alice"),
    ("heidi", "Heidi Historic", 1100, 380, 1105, 600, "contractor", "ivan"),
    ("ivan", "Ivan IT", 850, None, 860, 50, "employee", ""),
    ("judy", "Judy Jones", 650, None, 655, None, "employee", "ivan"),
    ("mallory", "Mallory Mills", 550, None, None, 20, "employee", "ivan"),
    ("oscar", "Oscar Old", 1200, 500, 1205, 700, "employee", "ivan"),
    ("peggy", "Peggy Fresh", 45, None, 50, None, "employee", "alice"),
    ("trent", "Trent Support", 450, None, 455, 100, "contractor", "ivan"),
)

# identity -> person: the other demo domains, the GitHub logins, the IAM user names, and two special cases
_MAP: tuple[tuple[str, str], ...] = (
    ("*@northwind.example", f"*@{DEMO_DOMAIN}"),
    ("*@contoso.example", f"*@{DEMO_DOMAIN}"),
    ("admin@northwind.example", f"alice@{DEMO_DOMAIN}"),
    *((f"github:{login}", f"{login}@{DEMO_DOMAIN}") for login in ("alice", "bob", "carol", "dave", "erin")),
    *((f"aws:{name}", f"{name}@{DEMO_DOMAIN}") for name in ("alice", "bob", "carol")),
    ("aws:ci-deploy", "service:platform-team"),
)

#: check id -> what it must fail in the demo, exactly: person emails, or provider:login of identities
EXPECTED_FAILURES: dict[str, frozenset[str]] = {
    "people.person.leaver_access_removed": frozenset({f"dave@{DEMO_DOMAIN}", f"frank@{DEMO_DOMAIN}"}),
    "people.identity.belongs_to_person": frozenset(
        {"okta:gina@acme.example", "github:release-bot", "azure:gus_partner.example#EXT#@contoso.example"}
    ),
    "people.person.mfa_everywhere": frozenset(f"{p}@{DEMO_DOMAIN}" for p in ("bob", "carol", "erin", "peggy", "trent")),
    "people.person.background_check": frozenset({f"mallory@{DEMO_DOMAIN}"}),
    "people.person.security_training": frozenset(f"{p}@{DEMO_DOMAIN}" for p in ("carol", "judy", "peggy")),
}


def _day(today: date, days_ago: int | None) -> str:
    return "" if days_ago is None else (today - timedelta(days=days_ago)).isoformat()


def roster_rows(today: date) -> list[dict[str, str]]:
    return [
        {
            "email": f"{local}@{DEMO_DOMAIN}",
            "name": name,
            "start_date": _day(today, start),
            "end_date": _day(today, end),
            "background_check_date": _day(today, check),
            "security_training_date": _day(today, training),
            "employment_type": kind,
            "manager": f"{manager}@{DEMO_DOMAIN}" if manager else "",
        }
        for local, name, start, end, check, training, kind, manager in _ROWS
    ]


def write_files(directory: Path, now: datetime | None = None) -> tuple[Path, Path]:
    """roster.csv and identity-map.csv in ``directory``, dated from ``now``'s day."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    directory.mkdir(parents=True, exist_ok=True)
    roster = directory / "roster.csv"
    lines = [",".join(_COLUMNS)] + [",".join(row[c] for c in _COLUMNS) for row in roster_rows(today)]
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    identity_map = directory / "identity-map.csv"
    identity_map.write_text(
        "identity,person\n" + "".join(f"{k},{v}\n" for k, v in _MAP),
        encoding="utf-8",
    )
    return roster, identity_map


def source_config(directory: Path, name: str = "demo-people", **extra: Any) -> dict[str, Any]:
    """A ``people`` source (config data) over the files written in ``directory``."""
    roster, identity_map = write_files(directory)
    return {"name": name, "provider": "people", "roster": str(roster), "identity_map": str(identity_map), **extra}

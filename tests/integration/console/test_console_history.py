"""The posture history strip over real HTTP: a cell per day with its status in words, the last one the
status the page shows now; bounded to 92 days; an auditor within their period."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from tests.integration.console.conftest import Served, client, login, now


def _rows(text: str) -> list[tuple[str, str, list[str]]]:
    """(requirement id, status now, [day: status...]) of each row of the posture table."""
    out = []
    for row in re.findall(r'<tr>\s*<th scope="row">(.*?)</tr>', text, re.S):
        rid = re.search(r">([^<]+)</a>", row).group(1)  # type: ignore[union-attr]
        status = re.search(r'<span class="status s-[a-z_]+">([^<]+)</span>', row).group(1)  # type: ignore[union-attr]
        cells = re.findall(r'<span class="sr">([^<]+)</span>', row)
        out.append((rid, status, cells))
    return out


def test_history_strip_ends_with_the_status_now(console: Served) -> None:
    today = now().date()
    with client(console) as c:
        login(c, "olivia")
        r = c.get("/console/posture", params={"from": str(today - timedelta(days=6)), "to": str(today)})
    assert r.status_code == 200, r.text[:600]
    rows = _rows(html.unescape(r.text))
    assert rows
    for rid, status, cells in rows:
        assert len(cells) == 7, (rid, cells)
        assert cells[0].startswith(f"{today - timedelta(days=6)}: ")
        assert cells[-1] == f"{today}: {status}", (rid, cells[-1], status)
    # automated requirements had no data before the store was filled today
    assert any(cells[0].endswith(": no data") and status in ("pass", "fail") for _, status, cells in rows)


def test_history_is_bounded_and_checked(console: Served) -> None:
    with client(console) as c:
        login(c, "olivia")
        r = c.get("/console/posture", params={"from": "2026-01-01", "to": "2026-12-31"})
        assert r.status_code == 400 and "at most 92 days" in r.text
        assert c.get("/console/posture", params={"from": "2026-13-01"}).status_code == 400
        default = _rows(html.unescape(c.get("/console/posture").text))
        assert all(len(cells) == 14 for _, _, cells in default)
    with client(console) as c:
        login(c, "audrey")
        assert c.get("/console/posture", params={"from": "2019-01-01", "to": "2019-01-31"}).status_code == 403
        assert c.get("/console/posture").status_code == 200

"""Slack incoming-webhook payloads (Block Kit) built from an Alert.

Everything that comes from a cloud (resource ids, names, reasons, attribute values) goes through
``escape``: Slack's three control characters are escaped and broadcast mentions neutralised, and
mrkdwn text objects are sent ``verbatim`` so Slack does not turn bare URLs or #names into links.
"""

from __future__ import annotations

import re
from typing import Any

from agent.alerts.model import Alert

__all__ = ["escape", "render"]

_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_SEV_EMOJI = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "medium": ":large_yellow_circle:",
    "low": ":large_blue_circle:",
    "info": ":white_circle:",
}
_SECTION_MAX = 2900  # Slack rejects section text over 3000 characters


def escape(text: str) -> str:
    """Make untrusted text inert in Slack mrkdwn: &, <, > escaped (so no <!here>, <@U..>, <url|x>)
    and @channel/@here/@everyone broken with a zero-width space."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u200b", text)


def _code(text: str) -> str:
    # inline code cannot contain a backtick; a look-alike keeps the name readable
    return f"`{escape(text).replace('`', 'ˋ')}`" if text else "-"


def _clip(text: str, limit: int = _SECTION_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _clip(text), "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _md(text)}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, 150), "emoji": True}}


def _link(alert: Alert) -> list[dict[str, Any]]:
    if not alert.link:
        return []
    url = escape(alert.link).replace("|", "%7C")
    return [{"type": "context", "elements": [_md(f"<{url}|Open in posture-agent>")]}]


def _finding_blocks(alert: Alert) -> list[dict[str, Any]]:
    where = " / ".join(escape(x) for x in (alert.account, alert.region) if x) or "-"
    fields = [
        _md(f"*Resource*\n{_code(alert.resource_id)}"),
        _md(f"*Account / region*\n{where}"),
        _md(f"*Check*\n{_code(alert.check_id)}"),
        _md(f"*Severity*\n{_SEV_EMOJI.get(alert.severity, '')} {escape(alert.severity)}"),
        _md(f"*Status*\n{escape(alert.previous_status or 'new')} → {escape(alert.status)}"),
        _md(f"*Source*\n{escape(alert.source) or '-'}"),
    ]
    blocks: list[dict[str, Any]] = [
        _header(alert.title),
        {"type": "section", "fields": fields},
    ]
    if alert.message:
        blocks.append(_section(f"*What changed*\n{escape(alert.message)}"))
    if alert.changes:
        lines = "\n".join(alert.changes[:20]).replace("```", "ˋˋˋ")
        more = f"\n(+{len(alert.changes) - 20} more)" if len(alert.changes) > 20 else ""
        blocks.append(_section(f"*Attribute changes*\n```{escape(lines)}{more}```"))
    if alert.controls:
        blocks.append(_section(f"*Controls affected*\n{escape(', '.join(alert.controls))}"))
    if alert.remediation and alert.kind == "failure":
        blocks.append(_section(f"*Remediation*\n{escape(alert.remediation)}"))
    return blocks + _link(alert)


def _digest_blocks(alert: Alert) -> list[dict[str, Any]]:
    sev = ", ".join(f"{escape(k)}: {v}" for k, v in sorted(alert.by_severity.items()))
    top = sorted(alert.by_check.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    checks = "\n".join(f"• {_code(k)}: {v}" for k, v in top)
    items = "\n".join(
        f"• {escape(i.get('severity', ''))} {_code(i.get('check_id', ''))} on {_code(i.get('resource_id', ''))}"
        for i in alert.items[:10]
    )
    blocks = [
        _header(alert.title),
        _section(
            f"*{alert.total} alerts in one cycle* (source {escape(alert.source) or '-'}, "
            f"account {escape(alert.account) or 'several'})\n*By severity*: {sev or '-'}"
        ),
        _section(f"*Top checks*\n{checks or '-'}"),
    ]
    if items:
        blocks.append(_section(f"*First items*\n{items}"))
    return blocks + _link(alert)


def _notice_blocks(alert: Alert) -> list[dict[str, Any]]:
    blocks = [_header(alert.title), _section(escape(alert.message) or "-")]
    if alert.check_id:
        blocks.append(_section(f"*Check* {_code(alert.check_id)}  *Resources* {_code(alert.resource_id)}"))
    return blocks + _link(alert)


def render(alert: Alert) -> dict[str, Any]:
    """The JSON body to POST to a Slack incoming webhook."""
    if alert.kind in ("failure", "resolution"):
        blocks = _finding_blocks(alert)
    elif alert.kind == "digest":
        blocks = _digest_blocks(alert)
    else:
        blocks = _notice_blocks(alert)
    fallback = escape(alert.title)
    if alert.resource_id:
        fallback += f": {escape(alert.resource_id)}"
    return {"text": _clip(fallback), "blocks": blocks[:50], "unfurl_links": False, "unfurl_media": False}

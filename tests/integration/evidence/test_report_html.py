"""report.html rendered in Debian's headless Chromium: a screenshot that is not blank and a DOM that
holds what an auditor reads first, with every number formatted for people."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.evidence.checkpoints import Signer
from agent.evidence.export import export_bundle
from agent.mappings import load_mappings
from agent.store import Store
from tests.integration.evidence.helpers import STEP, T0, bucket, cycle, seed
from tests.integration.evidence.test_report_documents import DAY, attach

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        msg = "chromium is not installed (Debian package `chromium`; `make chromium` installs it)"
        if IN_CI:
            pytest.fail(f"{msg}; CI=true requires it", pytrace=False)
        pytest.skip(f"LOUD SKIP: {msg}")
    return CHROMIUM


def _run_chromium(binary: str, tmp: Path, url: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    cmd = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *extra,
        url,
    ]
    return subprocess.run(cmd, capture_output=True, timeout=120, check=True)


# -- a PNG reader small enough to live here (no imaging library in the test environment) ---------


def _png_pixels(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, unfiltered rows) of an 8-bit non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    height = bpp = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and interlace == 0, (depth, interlace)
            bpp = {2: 3, 6: 4, 0: 1, 4: 2}[color]
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows = zlib.decompress(idat), width * bpp, []
    prev = bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


class _Text(HTMLParser):
    """The visible text of a document (style and script content left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _text(html: str) -> str:
    p = _Text()
    p.feed(html)
    return re.sub(r"\s+", " ", " ".join(p.parts))


def _history(store: Store) -> Signer:
    """Two days: the seeded first hour, documents attached before and during the period, two outages,
    a failure seen fixed 3 h 15 min after it was detected (after an outage), one still open at the end, and a policy whose review lapses on
    day 1 without a replacement. Written in time order, as the daemon would."""
    attach(store, "GOV-CODE-OF-CONDUCT", "conduct-2024.pdf", -400, 365)  # lapsed before the period
    attach(store, "POL-INFOSEC", "infosec-policy.pdf", -300, 301, owner="frank")  # due on day 1
    attach(store, "HR-AGREEMENTS", "nda-v1.pdf", -100, 365)  # replaced before the period
    attach(store, "GOV-ROLES", "roles.pdf", -60, 365, owner="erin")
    attach(store, "HR-AGREEMENTS", "nda-v2.pdf", -35, 40)
    attach(store, "GOV-CODE-OF-CONDUCT", "conduct-2025.pdf", -30, 365)
    seed(store)  # cycles from 00:00 (b1 fails 00:15-00:45), a drift event, an exception, access.pdf
    outages = ((timedelta(hours=4), timedelta(hours=6)), (timedelta(hours=30), timedelta(hours=31, minutes=30)))
    for i in range(8, 192):
        at = T0 + i * STEP
        if any(a < at - T0 < b for a, b in outages):
            continue
        if at - T0 == timedelta(hours=12):
            attach(store, "GOV-OVERSIGHT", "board-minutes.pdf", 0.5, 365, owner="grace")  # 75% of the period
        cycle(
            store,
            at,
            [
                bucket("b0"),
                bucket("b1"),
                bucket("b2", encrypted=not (timedelta(hours=2, minutes=45) <= at - T0 < timedelta(hours=6))),
                bucket("b3", encrypted=at - T0 < timedelta(hours=40)),
            ],
        )
    return Signer(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _export(store: Store, tmp_path: Path, framework: str = "soc2", signer: Signer | None = None) -> Path:
    out = tmp_path / f"{framework}.zip"
    export_bundle(store, load_mappings(), framework=framework, start=T0, end=T0 + 2 * DAY, out=out, signer=signer)
    html = tmp_path / f"{framework}-report.html"
    with zipfile.ZipFile(out) as zf:
        html.write_bytes(zf.read("report.html"))
    return html


def test_report_renders_for_an_auditor(store: Store, tmp_path: Path, chromium: str) -> None:
    signer = _history(store)
    html = _export(store, tmp_path, signer=signer)
    source = html.read_text()
    # self-contained: no script, nothing fetched from elsewhere
    assert "<script" not in source.lower() and not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", source)

    png = tmp_path / "report.png"
    _run_chromium(chromium, tmp_path, html.as_uri(), f"--screenshot={png}", "--window-size=1280,2000")
    width, height, bpp, rows = _png_pixels(png.read_bytes())
    assert (width, height) == (1280, 2000)
    colours = {row[i : i + 3] for row in rows[::10] for i in range(0, len(row), bpp * 10)}
    background = max(colours, key=lambda c: sum(row.count(c) for row in rows[::50]))
    inked = sum(1 for row in rows[::10] for i in range(0, len(row), bpp * 10) if row[i : i + 3] != background)
    assert len(colours) > 20 and inked > 0.05 * (height // 10) * (width // 10), (len(colours), inked)

    dom = _run_chromium(chromium, tmp_path, html.as_uri(), "--dump-dom").stdout.decode()
    text = _text(dom)
    # the summary comes first: period, framework, sources with their monitored share, criteria by status
    summary = dom[dom.index('id="summary"') : dom.index('id="criteria"')]
    assert "SOC 2 Trust Services Criteria" in summary and "2026-01-01 00:00 UTC to 2026-01-03 00:00 UTC" in summary
    assert "prod" in summary and re.search(r"<td class=\"num\">\d+(\.\d)?%</td>", summary), summary
    for cls in ("st-passing", "st-failing", "st-partly", "st-not-evidenced", "st-not-assessed"):
        assert f"card {cls}" in summary, cls
    # criteria of each status the data has, with the reason
    for cls in ("st-passing", "st-failing", "st-partly", "st-not-evidenced"):
        assert f'class="crit {cls}"' in dom, cls
    assert "SOC2:CC1.3 Structures, reporting lines and authority set Passing" in text
    assert "SOC2:CC1.2 Independent oversight of internal control Partly" in text
    # a failure grouped under its criterion with its time to remediate, and one still open
    cc61 = dom[dom.index('id="SOC2:CC6.1"') :]
    cc61 = cc61[: cc61.index('class="crit ', 10)]
    assert "arn:aws:s3:::b2" in cc61 and "3 h 15 min" in cc61
    assert "arn:aws:s3:::b3" in cc61 and "still open" in cc61
    # a gap on the timeline and in the table
    assert 'class="gap"' in dom and "2026-01-01 04:00 UTC" in text and "2 h" in text
    # the document table: owner, review dates, the lapsed one highlighted
    docs = dom[dom.index('id="documents"') : dom.index('id="exceptions"')]
    assert "nda-v2.pdf" in docs and "conduct-2025.pdf" in docs and "erin" in docs
    assert "conduct-2024.pdf" not in docs and "nda-v1.pdf" not in docs  # not in force in the period
    assert re.search(r"<tr class=\"overdue\">.*?infosec-policy\.pdf.*?review overdue", docs), docs
    # exceptions and how to verify with a pinned key
    assert "migrating" in text and "posture-verify bundle.zip --key-fingerprint" in text
    assert "not from this bundle" in text
    # numbers for people everywhere
    assert not re.search(r"\bNone\b", text) and not re.search(r"\bnan\b", text, re.I)
    assert not re.search(r"\d+\.\d{2,}", text), re.findall(r".{30}\d+\.\d{2,}.{10}", text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text), "raw ISO timestamps in the text"
    keep = os.environ.get("POSTURE_REPORT_SCREENSHOT")
    if keep:  # to look at it: POSTURE_REPORT_SCREENSHOT=/tmp/report.png pytest ... -k renders
        shutil.copy(png, keep)


def test_not_assessed_criteria_are_shown(store: Store, tmp_path: Path, chromium: str) -> None:
    seed(store)
    html = _export(store, tmp_path, framework="iso27001")
    dom = _run_chromium(chromium, tmp_path, html.as_uri(), "--dump-dom").stdout.decode()
    assert 'class="crit st-not-assessed"' in dom
    assert "No control of posture-agent covers this criterion" in _text(dom)
    assert "without a signing key" in _text(dom)

"""The console in a real headless browser: Debian's chromium (/usr/bin/chromium, `make chromium`)
driven by Playwright, nothing downloaded. Each role signs in, opens every page (screenshots of each,
in a directory printed at the end), the operator follows a failing finding to its resource and its
drift, the auditor is refused outside the period. No JavaScript is needed: the pages have none."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from agent.evidence.checkpoints import Signer, checkpoint_now
from tests.integration.console.conftest import PASSWORDS, PUBLIC_BUCKET, SIGNING_KEY, Served, now
from tests.integration.console.test_console_evidence import verify_as_the_readme_says

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        msg = "chromium is not installed (Debian package `chromium`; `make chromium` installs it)"
        if IN_CI:
            pytest.fail(f"{msg}; CI=true requires it", pytrace=False)
        pytest.skip(f"LOUD SKIP: {msg}")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $POSTURE_CONSOLE_SCREENSHOTS (kept), or a pytest temporary directory."""
    wanted = os.environ.get("POSTURE_CONSOLE_SCREENSHOTS")
    path = Path(wanted) if wanted else tmp_path_factory.mktemp("console-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sign_in(page: Page, console: Served, name: str) -> None:
    page.goto(f"{console.url}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{console.url}/posture")


def _shot(page: Page, shots: Path, name: str) -> None:
    out = shots / f"{name}.png"
    page.screenshot(path=str(out), full_page=True)
    assert out.stat().st_size > 5000  # not blank


def _evidence_and_coverage(page: Page, console: Served, shots: Path, tmp: Path, role: str) -> None:
    """The evidence page, today's bundle downloaded through its button and verified as an auditor would,
    the coverage page and the posture history."""
    signer = Signer(SIGNING_KEY)
    checkpoint_now(console.store, now(), signer, cadence_s=86400)  # the daemon's hourly checkpoint
    page.get_by_role("link", name="Evidence", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Evidence")
    expect(page.get_by_role("table").filter(has_text="infosec-policy.pdf")).to_contain_text("In force")
    page.get_by_label("From", exact=True).fill(str(now().date()))
    page.get_by_label("To", exact=True).fill(str(now().date()))
    page.get_by_role("button", name="Show").click()
    _shot(page, shots, f"{role}-evidence")
    with page.expect_download() as got:
        page.get_by_role("button", name="Download evidence bundle").click()
    bundle = tmp / f"{role}-bundle.zip"
    got.value.save_as(bundle)
    result = verify_as_the_readme_says(bundle, "soc2", signer)
    assert result.returncode == 0 and result.stdout.startswith("OK"), result.stdout + result.stderr
    page.get_by_role("link", name="Coverage", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Coverage and gaps")
    expect(page.get_by_role("table").first).to_contain_text("aws-test")
    _shot(page, shots, f"{role}-coverage")
    page.get_by_role("link", name="Posture", exact=True).click()
    expect(page.locator(".strip").first.locator("li").last).to_contain_text(str(now().date()))
    _shot(page, shots, f"{role}-posture-history")


def test_operator_browses_and_follows_a_failing_finding(
    browser: Browser, console: Served, shots: Path, tmp_path: Path
) -> None:
    page = browser.new_page(java_script_enabled=False)  # reading works without JavaScript
    _sign_in(page, console, "olivia")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Posture: SOC 2")
    _shot(page, shots, "operator-posture")
    page.get_by_role("link", name="Findings", exact=True).click()
    page.get_by_label("Status").select_option("fail")
    page.get_by_label("Check").select_option("aws.s3.bucket_public_access_block")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    _shot(page, shots, "operator-findings")
    page.get_by_role("link", name="arn:aws:s3:::console-public").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Resource")
    expect(page.locator(".timeline")).to_contain_text("PublicAccessBlock.BlockPublicAcls: true -> false")
    _shot(page, shots, "operator-resource")
    for name in ("Drift", "Devices"):
        page.get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        _shot(page, shots, f"operator-{name.lower()}")
    _evidence_and_coverage(page, console, shots, tmp_path, "operator")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{console.url}/login")
    page.close()


def test_auditor_browses_and_is_refused_outside_the_period(
    browser: Browser, console: Served, shots: Path, tmp_path: Path
) -> None:
    page = browser.new_page(java_script_enabled=False)
    _sign_in(page, console, "audrey")
    expect(page.get_by_role("note")).to_contain_text("recorded in the evidence chain")
    _shot(page, shots, "auditor-posture")
    for name in ("Findings", "Drift", "Devices"):
        page.get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        _shot(page, shots, f"auditor-{name.lower()}")
    _evidence_and_coverage(page, console, shots, tmp_path, "auditor")
    response = page.goto(f"{console.url}/drift?from=2019-01-01&to=2019-12-31")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("outside your audit period")
    _shot(page, shots, "auditor-refused")
    page.close()
    print(f"\nconsole screenshots: {shots}")


# -- accessibility: axe-core (`make axe-core`, npm) injected into every page ---------------------------

AXE = Path(os.environ.get("POSTURE_AXE_JS") or Path(__file__).parents[3] / ".axe/node_modules/axe-core/axe.min.js")
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def axe() -> Path:
    if not AXE.is_file():
        msg = f"axe-core is not installed ({AXE}; `make axe-core` installs it from npm)"
        if IN_CI:
            pytest.fail(f"{msg}; CI=true requires it", pytrace=False)
        pytest.skip(f"LOUD SKIP: {msg}")
    return AXE


def _violations(page: Page, axe: Path) -> list[str]:
    """axe-core's serious and critical violations of the page, one line each."""
    page.add_script_tag(path=str(axe))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    lines = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in found]
    for line, v in zip(lines, found, strict=True):
        if v["impact"] not in SERIOUS:
            print(f"axe, {page.url}: {line}")  # minor and moderate ones: shown, not failed
    return [line for line, v in zip(lines, found, strict=True) if v["impact"] in SERIOUS]


def _pages(console: Served) -> list[str]:
    day = now().date()
    return [
        "posture",
        f"posture?from={day - timedelta(days=30)}&to={day}",
        "findings",
        "findings?status=fail",
        f"resource?id={quote(PUBLIC_BUCKET, safe='')}",
        "drift",
        "devices",
        "evidence",
        "coverage",
        "findings?page=0",  # an error page
    ]


@pytest.mark.parametrize("name", ["olivia", "audrey"])
def test_every_page_has_no_serious_accessibility_violation(
    browser: Browser, console: Served, axe: Path, name: str
) -> None:
    # JavaScript on and the CSP bypassed for axe only: the pages themselves have no script
    context = browser.new_context(java_script_enabled=True, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{console.url}/login")
    problems = {"login": _violations(page, axe)}
    _sign_in(page, console, name)
    for path in _pages(console):
        page.goto(f"{console.url}/{path}")
        problems[path] = _violations(page, axe)
    context.close()
    assert not {k: v for k, v in problems.items() if v}, problems

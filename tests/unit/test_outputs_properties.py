"""Property test of every output writer: whatever the findings hold (odd characters, lone
surrogates, control characters, empty fields, huge messages, unknown statuses), each format is
produced without raising, encodes to UTF-8 and validates against its schema."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.models import Status
from agent.outputs import FORMATS, CheckInfo, OutputFinding, Report, SourceOutcome, render
from tests.unit.outputs_kit import CHECKS, valid_csv, valid_junit, valid_ocsf, valid_sarif

# every code point, surrogates and control characters included
ANY_CHAR = st.characters(exclude_categories=())
TEXT = st.text(ANY_CHAR, max_size=40)
TRICKY = st.sampled_from(["", " ", "=1+1", "-", "@x", "\t", "\r\n", '"', "<![CDATA[", "]]>", "\x00", "\ud800", "a,b"])
FIELD = st.one_of(TEXT, TRICKY)
HUGE = st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "<", "\n", '"', "\x01"]), st.integers(0, 100_000))
WHEN = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))
STATUS = st.one_of(st.sampled_from([s.value for s in Status]), FIELD)
SEVERITY = st.one_of(st.sampled_from(["critical", "high", "medium", "low", "info"]), FIELD)
PROVIDER = st.one_of(st.sampled_from(["aws", "gcp", "azure", "endpoints"]), FIELD)
CHECK_ID = st.one_of(st.sampled_from(sorted(CHECKS)), FIELD)

findings = st.builds(
    OutputFinding,
    uid=FIELD,
    check_id=CHECK_ID,
    resource_id=st.one_of(FIELD, st.just("arn:aws:s3:::bucket"), st.just("arn::x")),
    resource_type=st.one_of(FIELD, st.just("aws.s3.bucket")),
    provider=PROVIDER,
    account=FIELD,
    region=FIELD,
    status=STATUS,
    severity=SEVERITY,
    message=st.one_of(FIELD, HUGE),
    requirements=st.lists(FIELD, max_size=3).map(tuple),
    time=WHEN,
    first_seen=st.none() | WHEN,
    source=FIELD,
)
checks = st.builds(
    CheckInfo,
    id=FIELD,
    title=FIELD,
    rationale=FIELD,
    remediation=st.one_of(FIELD, HUGE),
    cli=FIELD,
    docs=st.one_of(FIELD, st.just("https://example.com/doc"), st.just("https://\x00 bad")),
    references=st.lists(FIELD, max_size=2).map(tuple),
)
sources = st.builds(SourceOutcome, name=FIELD, provider=PROVIDER, account=FIELD, status=FIELD, error=FIELD)


@st.composite
def reports(draw: st.DrawFn) -> Report:
    fs = draw(st.lists(findings, max_size=8))
    catalog = {f.check_id: draw(checks) for f in fs if draw(st.booleans())}
    return Report(
        findings=tuple(fs),
        generated_at=draw(WHEN),
        checks=catalog,
        started_at=draw(st.none() | WHEN),
        sources=tuple(draw(st.lists(sources, max_size=3))),
        tool_version=draw(st.sampled_from(["0.1.0", "0.0.0+local"])),
        run_id=draw(FIELD),
    )


VALIDATORS = {"ocsf": valid_ocsf, "sarif": valid_sarif, "junit": valid_junit, "csv": valid_csv}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(report=reports())
def test_every_writer_produces_valid_output(report: Report) -> None:
    assert set(VALIDATORS) == set(FORMATS)
    docs = {}
    for fmt, validate in VALIDATORS.items():
        text = render(fmt, report)
        text.encode("utf-8")  # no lone surrogate reaches a file
        docs[fmt] = validate(text)
    n = len(report.findings)
    assert len(docs["ocsf"]) == len(docs["csv"]) == n
    results = sum(f.status in ("fail", "excepted", "error") for f in report.findings)
    assert len(docs["sarif"]["runs"][0]["results"]) == results
    assert len(docs["sarif"]["runs"][0]["tool"]["driver"]["rules"]) == len({f.check_id for f in report.findings})
    assert int(docs["junit"].get("tests")) == n + len(report.sources)
    assert int(docs["junit"].get("failures")) == sum(f.status == "fail" for f in report.findings)

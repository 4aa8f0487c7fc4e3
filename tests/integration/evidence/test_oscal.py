"""The exported OSCAL assessment results parse as OSCAL (compliance-trestle's pydantic models) and
claim no more than the evidence shows."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.evidence.export import export_bundle
from agent.mappings import load_mappings
from agent.store import Store
from tests.integration.evidence.helpers import T0, seed
from tests.integration.evidence.test_report_documents import DAY, PERIOD, document_history

trestle_ar = pytest.importorskip("trestle.oscal.assessment_results")


def _export(store: Store, tmp_path: Path, start: Any, end: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    out = tmp_path / "b.zip"
    export_bundle(store, load_mappings(), framework="soc2", start=start, end=end, out=out)
    with zipfile.ZipFile(out) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    doc = json.loads(files["oscal/assessment-results.json"])
    trestle_ar.AssessmentResults.parse_obj(doc["assessment-results"])  # valid OSCAL, or this raises
    return doc["assessment-results"], files


def _finding(ar: dict[str, Any], ref: str) -> dict[str, Any]:
    return next(f for f in ar["results"][0]["findings"] if f["title"].startswith(ref + " "))


def _props(obj: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in obj.get("props", [])}


def test_assessment_results_are_valid_oscal(store: Store, tmp_path: Path) -> None:
    seed(store)
    ar, _ = _export(store, tmp_path, T0, T0 + timedelta(hours=2))
    assert ar["results"][0]["findings"] and ar["results"][0]["observations"]
    broken = json.loads(json.dumps(ar))
    del broken["results"][0]["start"]  # a required field: the model must refuse it
    with pytest.raises(Exception, match="start"):
        trestle_ar.AssessmentResults.parse_obj(broken)
    # import-ap points at a resource of the document, not at nothing
    plan = ar["import-ap"]["href"].removeprefix("#")
    assert plan in {r["uuid"] for r in ar["back-matter"]["resources"]}


def test_manual_criterion_without_a_document_is_not_satisfied(store: Store, tmp_path: Path) -> None:
    seed(store)  # one document, for POL-ACCESS; CC1.1's controls have none
    ar, _ = _export(store, tmp_path, T0, T0 + timedelta(hours=2))
    cc11 = _finding(ar, "SOC2:CC1.1")
    status = cc11["target"]["status"]
    assert status["state"] == "not-satisfied" and status["reason"] == "other"
    assert _props(cc11)["status"] == "not evidenced"
    assert "GOV-CODE-OF-CONDUCT had no document in force" in _props(cc11)["reason"]
    assert "pass-pct" not in _props(cc11)  # nothing automated was measured
    assert "links" not in cc11
    # before: every manual criterion was satisfied; now none is, with one document for one control
    states = {f["title"].split()[0]: f["target"]["status"]["state"] for f in ar["results"][0]["findings"]}
    assert "satisfied" not in states.values()
    assert _finding(ar, "SOC2:CC6.1")["target"]["status"]["reason"] == "fail"  # b1 failed in the period


def test_documents_are_evidence_with_their_hash_and_bundle_path(store: Store, tmp_path: Path) -> None:
    document_history(store)
    ar, files = _export(store, tmp_path, T0 + 7 * DAY, PERIOD[1])
    cc11 = _finding(ar, "SOC2:CC1.1")
    assert cc11["target"]["status"]["state"] == "satisfied"
    resources = {r["uuid"]: r for r in ar["back-matter"]["resources"]}
    linked = [resources[link["href"].removeprefix("#")] for link in cc11["links"]]
    assert {r["title"] for r in linked} == {"GOV-CODE-OF-CONDUCT: conduct-2025.pdf", "HR-AGREEMENTS: nda-v3.pdf"}
    for r in linked:
        [rlink] = r["rlinks"]
        assert rlink["href"].startswith("manual/") and rlink["media-type"] == "application/pdf"
        assert rlink["hashes"] == [{"algorithm": "SHA-256", "value": hashlib.sha256(files[rlink["href"]]).hexdigest()}]
    # the manual control's observation carries the documents as relevant evidence
    obs = {o["uuid"]: o for o in ar["results"][0]["observations"]}
    related = [obs[x["observation-uuid"]] for x in cc11["related-observations"]]
    manual = [o for o in related if o["methods"] == ["EXAMINE"]]
    assert len(manual) == 2 and all(o["relevant-evidence"] for o in manual)
    assert {e["href"] for o in manual for e in o["relevant-evidence"]} == {link["href"] for link in cc11["links"]}


def test_partly_evidenced_criterion_is_not_satisfied(store: Store, tmp_path: Path) -> None:
    document_history(store)
    ar, _ = _export(store, tmp_path, *PERIOD)
    cc11 = _finding(ar, "SOC2:CC1.1")
    assert cc11["target"]["status"]["state"] == "not-satisfied"
    assert _props(cc11)["status"] == "partly" and _props(cc11)["evidenced-pct"] == "80.0"
    assert "80%" in cc11["target"]["status"]["remarks"]
    assert _finding(ar, "SOC2:CC1.3")["target"]["status"]["state"] == "satisfied"  # roles.pdf the whole period

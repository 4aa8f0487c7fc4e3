"""The exported OSCAL assessment results parse as OSCAL (compliance-trestle's pydantic models)."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from agent.evidence.export import export_bundle
from agent.mappings import load_mappings
from agent.store import Store
from tests.integration.evidence.helpers import T0, seed

trestle_ar = pytest.importorskip("trestle.oscal.assessment_results")


def test_assessment_results_are_valid_oscal(store: Store, tmp_path: Path) -> None:
    seed(store)
    out = tmp_path / "b.zip"
    export_bundle(store, load_mappings(), framework="soc2", start=T0, end=T0 + timedelta(hours=2), out=out)
    with zipfile.ZipFile(out) as zf:
        doc = json.loads(zf.read("oscal/assessment-results.json"))
    ar = trestle_ar.AssessmentResults.parse_obj(doc["assessment-results"])
    assert ar.results and ar.results[0].findings and ar.results[0].observations
    broken = json.loads(json.dumps(doc["assessment-results"]))
    del broken["results"][0]["start"]  # a required field: the model must refuse it
    with pytest.raises(Exception, match="start"):
        trestle_ar.AssessmentResults.parse_obj(broken)

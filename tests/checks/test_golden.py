"""The example plans: the golden plan's findings are compared whole; the clean plan has none."""

from __future__ import annotations

import json
import re
from pathlib import Path

from personalization_engine.checks.codes import CHECK_FINDING_CODES, FINDING_CODES
from personalization_engine.checks.run import run_checks

from .fixtures.make_plans import clean_plan as clean_document
from .fixtures.make_plans import golden_plan as golden_document
from .helpers import FIXTURES, load_fixture

DOCS = Path(__file__).parents[2] / "docs"


def test_the_golden_plan_yields_exactly_the_expected_findings():
    expected = json.loads((FIXTURES / "golden_plan.expected.json").read_text(encoding="utf-8"))
    assert [f.model_dump() for f in run_checks(load_fixture("golden_plan.json"))] == expected


def test_the_clean_plan_has_no_findings():
    assert run_checks(load_fixture("clean_plan.json")) == []


def test_the_fixture_files_match_their_builder():
    for name, document in (("clean_plan.json", clean_document()), ("golden_plan.json", golden_document())):
        assert json.loads((FIXTURES / name).read_text(encoding="utf-8")) == document, name


def test_the_golden_plan_exercises_every_code_of_the_checks_layer():
    emitted = {f.code for f in run_checks(load_fixture("golden_plan.json"))}
    assert sorted(set(CHECK_FINDING_CODES) - emitted) == []


def test_every_registered_code_including_the_rules_layers_is_documented_in_findings_md():
    documented = set(re.findall(r"^### `([a-z_.]+)`", (DOCS / "findings.md").read_text(), re.MULTILINE))
    assert sorted(set(FINDING_CODES) - documented) == []
    assert sorted(documented - set(FINDING_CODES)) == [], "documented codes that no check emits"


def test_findings_carry_a_registered_code_a_pointer_and_a_known_stage():
    stages = {"plan", "intake", "attributes", "profiles", "activation", "governance"}
    for finding in run_checks(load_fixture("golden_plan.json")):
        assert finding.code in FINDING_CODES
        assert finding.pointer.startswith("/")
        assert finding.stage in stages

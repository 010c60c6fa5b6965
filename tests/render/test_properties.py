"""Generated plans: rendering any valid plan never raises, and gives the same bytes twice."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalization_engine.model import Plan
from personalization_engine.render import DELIVERABLES, render_deliverables

from ..checks.test_properties import NAMES, PROFILE_IDS, plan_document

# Plan text refuses control characters (single-line fields) or keeps only newline and tab
# (multi-line ones); everything else a person can type is fair game.
_PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))
free_text = st.text(alphabet=_PRINTABLE | st.sampled_from("\n\t"), max_size=60)
short_text = st.text(alphabet=_PRINTABLE, min_size=1, max_size=60)
scenario = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["s1", "s2", "s3"]),
        "description": st.none() | short_text,
        "record": st.dictionaries(
            st.sampled_from(NAMES), st.none() | st.integers(-5, 5) | short_text, max_size=4
        ),
        "expected_profile": st.none() | st.sampled_from(PROFILE_IDS),
    }
)


def with_text(document: dict, initiative: str, description: str, scenarios: list, rationale: str) -> dict:
    document = {**document, "initiative": initiative, "scenarios": scenarios}
    document["pattern"] = {**document["pattern"], "rationale": rationale}
    document["attributes"] = [{**a, "description": description} for a in document["attributes"]]
    document["profiles"] = [{**p, "name": initiative, "purpose": description} for p in document["profiles"]]
    return document


documents = st.builds(
    with_text, plan_document, short_text, free_text, st.lists(scenario, max_size=3), free_text
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_rendering_any_valid_plan_never_raises_and_is_deterministic(document):
    plan = Plan.model_validate(document)
    files = render_deliverables(plan)
    assert sorted(files) == sorted(DELIVERABLES)
    assert all(text for text in files.values())
    assert render_deliverables(Plan.model_validate(document)) == files

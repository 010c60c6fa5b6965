"""The dbt export as a pure function: what the bundle holds for the worked example, that it is
deterministic, its hard errors, dialects, and hostile text (the engine proof is test_dbt_engine.py)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import jinja2
import pytest
import sqlglot

from personalization_engine.errors import InputError
from personalization_engine.export import build_export
from personalization_engine.export.dbt_files import freshness, period
from personalization_engine.export.dbt_yaml import dump
from personalization_engine.model import Plan
from personalization_engine.model.targets import SQL_DIALECTS

from ..render.helpers import hostile
from .conftest import EXAMPLE_AT

EMAIL = ["new-trial-activation", "stalled-trial", "team-expansion", "dormant-free"]


def export(plan: Plan, **options) -> dict[str, str]:
    return build_export(
        plan, "dbt", exported_at=EXAMPLE_AT, draft=options.pop("draft", False), **options
    ).files


def with_changes(plan: Plan, **changes) -> Plan:
    data = plan.model_dump(mode="json", by_alias=True)
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(keys[-1]) if isinstance(node, list) else keys[-1]] = value
    return Plan.model_validate(data)


def test_the_worked_example_exports_every_profile_with_no_refusal(demo_plan: Plan) -> None:
    bundle = build_export(demo_plan, "dbt", exported_at=EXAMPLE_AT, draft=False)
    assert bundle.target == "dbt"
    assert bundle.profiles == tuple(p.id for p in demo_plan.profiles)
    assert bundle.refusals == () and bundle.cutoffs == () and bundle.cutoff_at is None
    assert bundle.carriers == {f"{p}/email": "pe_channel_email.sql" for p in EMAIL}
    assert set(bundle.files) == {
        "README.md", "sources.yml", "schema.yml", "unit_tests.yml", "exposures.yml", "pe_verdicts.sql",
        "pe_winner.sql", "pe_channel_email.sql",
        *(f"staging/stg_pe__{s}.sql" for s in ("warehouse", "product_events", "billing", "crm", "consent")),
        *(f"pe_profile_{p.id.replace('-', '_')}.sql" for p in demo_plan.profiles),
    }  # fmt: skip
    for path, text in bundle.files.items():
        assert path == "README.md" or re.fullmatch(r"[a-z0-9._/-]+", path), path
        assert "plan-20261124T090000Z" in text and f"revision {demo_plan.revision}" in text, path
        assert "DRAFT" not in text, path


def test_a_draft_export_says_so_in_every_file(demo_plan: Plan) -> None:
    for path, text in export(demo_plan, draft=True).items():
        assert "DRAFT" in text, path


def test_reexporting_at_another_time_gives_identical_bytes(demo_plan: Plan) -> None:
    first = export(demo_plan)
    later = build_export(demo_plan, "dbt", exported_at=EXAMPLE_AT + timedelta(days=40), draft=False).files
    assert later == first
    # the evaluation time is the dbt variable, never the export time
    assert "{{ var('pe_now', run_started_at.isoformat()) }}" in first["pe_verdicts.sql"]
    assert "2026-11-24" not in first["pe_verdicts.sql"]


def test_sources_carry_freshness_from_the_strictest_sla_of_their_attributes(demo_plan: Plan) -> None:
    sources = export(demo_plan)["sources.yml"]
    # consent: email_opt_in and email_unsubscribed have a 15m SLA
    consent = sources[sources.index('- name: "consent"') :].split("- name: ", 2)
    block = sources[sources.index('- name: "consent"') :]
    assert 'loaded_at_field: "_loaded_at"' in block
    assert 'warn_after:\n          count: 7\n          period: "minute"' in block, consent
    assert 'error_after:\n          count: 15\n          period: "minute"' in block
    assert period(900) == {"count": 15, "period": "minute"}
    assert period(86400) == {"count": 1, "period": "day"}
    assert period(30) == {"count": 1, "period": "minute"}
    assert freshness(["1d", "7d"]) == {
        "warn_after": {"count": 12, "period": "hour"},
        "error_after": {"count": 1, "period": "day"},
    }
    assert freshness(["1m"]) == {"error_after": {"count": 1, "period": "minute"}}
    assert freshness([]) is None


def test_every_dbt_activation_is_an_exposure_on_its_channel_model(demo_plan: Plan) -> None:
    exposures = export(demo_plan)["exposures.yml"]
    assert exposures.count("- name: ") == 4
    assert exposures.count("ref('pe_channel_email')") == 4
    assert 'name: "Lifecycle Marketing"' in exposures
    assert 'channel: "email"' in exposures and 'destination: "Braze"' in exposures


def test_scenarios_become_unit_tests_at_their_own_time(demo_plan: Plan) -> None:
    tests = export(demo_plan)["unit_tests.yml"]
    for scenario in demo_plan.scenarios:
        assert f'name: "pe_scenario_{scenario.id.replace("-", "_")}"' in tests
    assert tests.count('pe_now: "2026-11-24T09:00:00+00:00"') == len(demo_plan.scenarios)
    assert 'winner: "new-trial-activation"' in tests and "winner: null" in tests


def test_a_scenario_without_the_record_id_expects_no_row_and_one_without_time_is_left_out(
    demo_plan: Plan,
) -> None:
    data = demo_plan.model_dump(mode="json", by_alias=True)
    del data["scenarios"][0]["record"]["user_id"]
    data["scenarios"][1]["as_of"] = None
    bundle = build_export(Plan.model_validate(data), "dbt", exported_at=EXAMPLE_AT, draft=False)
    tests = bundle.files["unit_tests.yml"]
    first = tests[tests.index("pe_scenario_fresh_trial") : tests.index("pe_scenario_free_power_user")]
    assert "rows: []" in first and "winner" not in first
    assert "pe_scenario_quiet_trial" not in tests
    assert any("quiet-trial" in note and "as_of" in note for note in bundle.notes)
    assert "quiet-trial" in bundle.files["README.md"]


def test_a_profile_reading_an_attribute_without_a_source_is_refused_naming_the_condition(
    demo_plan: Plan,
) -> None:
    index = next(i for i, a in enumerate(demo_plan.attributes) if a.name == "plan_tier")
    plan = with_changes(demo_plan, **{f"attributes__{index}__source_id": None})
    with pytest.raises(InputError) as raised:
        export(plan)
    assert raised.value.field == "/profiles/0/eligibility/all/0"
    message = str(raised.value)
    assert "profile 'new-trial-activation' reads 'plan_tier', which has no source_id" in message
    assert "product-events, warehouse, billing, crm, consent" in message


def test_a_source_id_naming_no_data_source_is_refused(demo_plan: Plan) -> None:
    index = next(i for i, a in enumerate(demo_plan.attributes) if a.name == "email_opt_in")
    data = demo_plan.model_dump(mode="json", by_alias=True)
    data["attributes"][index]["source_id"] = "segment"
    # the plan model itself may refuse a dangling source_id; the export must too
    try:
        plan = Plan.model_validate(data)
    except ValueError:
        pytest.skip("the plan model refuses a dangling source_id itself")
    with pytest.raises(InputError) as raised:
        export(plan)
    assert "'email_opt_in', whose source_id 'segment' names no data source" in str(raised.value)
    assert raised.value.field.startswith("/profiles/4/suppression") or "consent_gate" in raised.value.field


def test_a_plan_with_no_match_key_has_no_record_id_and_is_refused(demo_plan: Plan) -> None:
    data = demo_plan.model_dump(mode="json", by_alias=True)
    for activation in data["activations"]:
        activation["match_keys"] = []
    with pytest.raises(InputError) as raised:
        export(Plan.model_validate(data))
    assert raised.value.field == "/activations"
    assert "needs a record id" in str(raised.value) and "match_keys" in str(raised.value)


def test_an_unknown_dialect_is_refused(demo_plan: Plan) -> None:
    with pytest.raises(InputError) as raised:
        export(demo_plan, dialect="oracle")
    assert raised.value.field == "dialect" and "duckdb, postgres" in str(raised.value)


def _rendered(text: str) -> str:
    """A model as dbt renders it (ref, source and var), for a parser."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return env.from_string(text).render(
        ref=lambda name: name,
        source=lambda name, table: f"{name}.{table}",
        var=lambda name, default=None: "2026-11-24T09:00:00+00:00",
        run_started_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_every_dialect_gets_sql_its_parser_reads(demo_plan: Plan, dialect: str) -> None:
    files = export(demo_plan, dialect=dialect)
    for path, text in files.items():
        if path.endswith(".sql"):
            assert f"(dbt, {dialect})" in text
            sqlglot.parse_one(_rendered(text), read=dialect)
    if dialect == "bigquery":
        assert "`user_id`" in files["pe_verdicts.sql"] and "UNIX_MICROS" in files["pe_verdicts.sql"]
    if dialect == "snowflake":
        assert '"USER_ID"' in files["pe_verdicts.sql"]


def test_hostile_text_never_reaches_dbt_as_jinja_or_breaks_a_line(demo_plan: Plan) -> None:
    text = "{{ exceptions.raise_compiler_error('x') }} {% if %} {# c\n-- drop table x;\n\u2028 \"quote' }}"
    files = export(hostile(demo_plan, text))
    for path, content in files.items():
        assert "{{ exceptions" not in content and "{%" not in content.replace("{% raw", ""), path
        if path.endswith(".sql"):
            _rendered(content)
            assert "drop table" not in content, path
        if path.endswith(".yml"):
            assert all("\u2028" not in line for line in content.splitlines()), path


def test_profile_ids_that_collide_once_made_sql_safe_get_distinct_models(demo_plan: Plan) -> None:
    data = demo_plan.model_dump(mode="json", by_alias=True)
    twin = dict(data["profiles"][4], id="dormant_free", priority=60)
    data["profiles"].append(twin)
    files = export(Plan.model_validate(data))
    assert "pe_profile_dormant_free.sql" in files
    assert sum(1 for p in files if p.startswith("pe_profile_dormant_free")) == 2


def test_yaml_reads_back_exactly_as_written_even_for_yaml_1_1_words_and_odd_characters() -> None:
    import yaml  # dbt's YAML reader (PyYAML), a dependency of dbt-core

    value = {
        "on": [1e308, 5e-324, -0.0, 2.5, 2**63 - 1, -(2**63), True, None],
        "yes": {"no": "off", "y": ""},
        "text": "a\u2028b\x85c\x7f\td\u00fc\U0001f600 \"'{{",
        "empty": [],
        "nested": [{"a": [1, {"b": []}]}],
    }
    assert yaml.safe_load(dump(value)) == value


def test_an_empty_plan_has_no_record_id_and_a_plan_without_dbt_activations_has_no_channel_model(
    demo_plan: Plan,
) -> None:
    data = demo_plan.model_dump(mode="json", by_alias=True)
    empty = Plan.model_validate({**data, "profiles": [], "activations": [], "scenarios": []})
    with pytest.raises(InputError, match="needs a record id"):
        export(empty)
    for activation in data["activations"]:
        if activation["export_target"] == "dbt":
            activation["export_target"] = "flagd"
    bundle = build_export(Plan.model_validate(data), "dbt", exported_at=EXAMPLE_AT, draft=False)
    assert bundle.carriers == {} and bundle.profiles == tuple(p.id for p in demo_plan.profiles)
    assert not any(path.startswith("pe_channel_") for path in bundle.files)
    assert "exposures: []" in bundle.files["exposures.yml"]
    assert "user_id" in bundle.files["pe_winner.sql"]  # keyed by the first match key of any activation


def test_a_consent_gate_on_an_attribute_without_a_source_is_refused_naming_the_entry(demo_plan: Plan) -> None:
    data = demo_plan.model_dump(mode="json", by_alias=True)
    data["attributes"].append({"name": "sms_opt_in", "type": "boolean"})
    index = next(i for i, a in enumerate(data["activations"]) if a["export_target"] == "dbt")
    data["activations"][index]["consent_gate"].append("sms_opt_in")
    with pytest.raises(InputError) as raised:
        export(Plan.model_validate(data))
    assert raised.value.field == f"/activations/{index}/consent_gate/2"
    assert (
        "the consent gate of 'new-trial-activation' on email reads 'sms_opt_in', which has no source_id"
        in str(raised.value)
    )


def test_a_string_constant_holding_line_breaks_reaches_the_sql_byte_for_byte(demo_plan):
    # sqlglot's pretty printer indents a constant's continuation lines; the export must not.
    from personalization_engine.model.rules import AllOf, EqualityCondition

    weird = "*/\u2028\x85\u202e\n--x 'q' a\nb"
    first = demo_plan.profiles[0]
    eligibility = AllOf(all=(first.eligibility, EqualityCondition(op="ne", attr="plan_tier", value=weird)))
    plan = demo_plan.model_copy(
        update={"profiles": (first.model_copy(update={"eligibility": eligibility}), *demo_plan.profiles[1:])}
    )
    sql = build_export(plan, "dbt", exported_at=EXAMPLE_AT, draft=False).files["pe_verdicts.sql"]
    assert "'*/\u2028\x85\u202e\n--x ''q'' a\nb'" in sql

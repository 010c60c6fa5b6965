"""The dbt export proven by dbt itself: `dbt build` (models, data tests, unit tests) and `dbt source
freshness` on the sample data, on DuckDB and on PostgreSQL, and the members dbt computes equal what
`plans size` (audience.measure) and our evaluator compute on the same data at the same time.

dbt runs are slow, so each engine builds once per module; the assertions read the built tables.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pytest

from personalization_engine.audience import write_sample_data
from personalization_engine.audience.measure import measure
from personalization_engine.export import build_export
from personalization_engine.export.dbt import plan_layout
from personalization_engine.model import Plan
from personalization_engine.model.plan import SizingRun
from personalization_engine.rules import simulate
from personalization_engine.rules.holdout import in_holdout, plan_salt, profile_shares

from ..audience.conftest import pg_dsn  # noqa: F401 (the PostgreSQL server fixture)
from ..render.helpers import example_plan
from .conftest import EXAMPLE_AT
from .dbt_project import DbtProject, load_duckdb, load_postgres, source_tables

ROWS = 3000
EMAIL_ACTIVATED = {"new-trial-activation", "stalled-trial", "team-expansion", "dormant-free"}

# The consent proof dbt runs itself: the fresh-trial scenario's record with the email gate true,
# false, or missing. Only the first may reach the email channel model.
CONSENT_TEST = """
unit_tests:
  - name: consent_gate_keeps_email_without_consent_out
    model: pe_verdicts
    overrides:
      vars: {pe_now: "2026-11-24T09:00:00+00:00"}
    given:
      - input: ref('stg_pe__warehouse')
        rows:
          - {user_id: granted, signup_at: "2026-11-22 09:00:00+00:00", teammates_invited: 0}
          - {user_id: refused, signup_at: "2026-11-22 09:00:00+00:00", teammates_invited: 0}
          - {user_id: unknown, signup_at: "2026-11-22 09:00:00+00:00", teammates_invited: 0}
          - {user_id: unsubscribed, signup_at: "2026-11-22 09:00:00+00:00", teammates_invited: 0}
      - input: ref('stg_pe__product_events')
        rows:
          - {user_id: granted, onboarding_steps_completed: 1, last_active_at: "2026-11-24 08:00:00+00:00"}
          - {user_id: refused, onboarding_steps_completed: 1, last_active_at: "2026-11-24 08:00:00+00:00"}
          - {user_id: unknown, onboarding_steps_completed: 1, last_active_at: "2026-11-24 08:00:00+00:00"}
          - {user_id: unsubscribed, onboarding_steps_completed: 1}
      - input: ref('stg_pe__billing')
        rows:
          - {user_id: granted, plan_tier: trial}
          - {user_id: refused, plan_tier: trial}
          - {user_id: unknown, plan_tier: trial}
          - {user_id: unsubscribed, plan_tier: trial}
      - input: ref('stg_pe__crm')
        rows: []
      - input: ref('stg_pe__consent')
        rows:
          - {user_id: granted, email_opt_in: true, email_unsubscribed: false}
          - {user_id: refused, email_opt_in: false, email_unsubscribed: false}
          - {user_id: unsubscribed, email_opt_in: true, email_unsubscribed: true}
    expect:
      rows:
        - {user_id: granted, winner: new-trial-activation, channel_email: new-trial-activation}
        - {user_id: refused, winner: new-trial-activation, channel_email: null}
        - {user_id: unknown, winner: new-trial-activation, channel_email: null}
        - {user_id: unsubscribed, winner: new-trial-activation, channel_email: null}
"""


@dataclass
class Built:
    """What one engine's dbt build produced: each model's rows, and the sizing of the same data."""

    plan: Plan
    models: dict[str, list[tuple[Any, ...]]]
    sizing: SizingRun
    records: list[dict[str, Any]]
    build_log: str
    freshness_log: str


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, SizingRun, list[dict[str, Any]]]:
    """The sample data's rows that have a user_id (dbt keys every model by it), sized by `plans size`'s
    measure at the example's time, and as records for our evaluator."""
    workspace = tmp_path_factory.mktemp("dbt-workspace")
    full = write_sample_data(workspace / "full.parquet", ROWS, reference=EXAMPLE_AT)
    keyed = workspace / "data" / "users.parquet"
    keyed.parent.mkdir()
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT * FROM read_parquet(?) WHERE user_id IS NOT NULL) TO ? (FORMAT parquet)",
            [str(full), str(keyed)],
        )
        cursor = con.execute("SELECT * FROM read_parquet(?)", [str(keyed)])
        names = [d[0] for d in cursor.description]
        records = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    sizing = measure(
        example_plan(), workspace_root=workspace, data="data/users.parquet", now=EXAMPLE_AT, actor="test"
    )
    return workspace, keyed, sizing, records


def _build(project: DbtProject, plan: Plan, sample, read, *, freshness: bool) -> Built:
    """One `dbt build`, and on DuckDB one `dbt source freshness` (each dbt run costs seconds; the
    freshness query is the adapter's max(loaded_at), so once is enough)."""
    _, _, sizing, records = sample
    build = project.run("build", now=EXAMPLE_AT)
    # the same vars as the build, so dbt reuses its parse
    fresh = project.run("source", "freshness", now=EXAMPLE_AT).stdout if freshness else ""
    return Built(plan, read(), sizing, records, build.stdout, fresh)


def _model_names(plan: Plan) -> list[str]:
    layout = plan_layout(plan, exported_at=EXAMPLE_AT, draft=False)
    return [
        "pe_verdicts",
        "pe_winner",
        "pe_channel_email",
        *(layout.profile_model(p.id) for p in plan.profiles),
    ]


@pytest.fixture(scope="module")
def duck_built(sample, tmp_path_factory: pytest.TempPathFactory) -> Built:
    plan = example_plan()
    root = tmp_path_factory.mktemp("dbt-duckdb")
    database = root / "pe_test.duckdb"
    layout = plan_layout(plan, exported_at=EXAMPLE_AT, draft=False)
    load_duckdb(
        database, sample[1], source_tables(layout.sources, layout.id_attr), datetime.now(timezone.utc)
    )
    project = DbtProject(root / "project", {"type": "duckdb", "path": str(database)})
    files = build_export(plan, "dbt", exported_at=EXAMPLE_AT, draft=False).files
    project.write({**files, "consent_unit_test.yml": CONSENT_TEST})

    def read() -> dict[str, list[tuple[Any, ...]]]:
        with duckdb.connect(str(database), read_only=True) as con:
            return {name: con.execute(f"SELECT * FROM main.{name}").fetchall() for name in _model_names(plan)}

    return _build(project, plan, sample, read, freshness=True)


@pytest.fixture(scope="module")
def pg_built(sample, pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Built:  # noqa: F811
    import psycopg

    plan = example_plan()
    database = "pe_dbt_export_test"
    layout = plan_layout(plan, exported_at=EXAMPLE_AT, draft=False, dialect="postgres")
    tables = source_tables(layout.sources, layout.id_attr)
    load_postgres(pg_dsn, database, sample[1], tables, datetime.now(timezone.utc))
    dsn = urlparse(pg_dsn)
    profile = {
        "type": "postgres",
        "host": dsn.hostname,
        "port": dsn.port or 5432,
        "user": dsn.username,
        "password": dsn.password or "",
        "dbname": database,
        "schema": "analytics",
    }
    root = tmp_path_factory.mktemp("dbt-postgres")
    project = DbtProject(root / "project", profile)
    files = build_export(plan, "dbt", exported_at=EXAMPLE_AT, draft=False, dialect="postgres").files
    project.write({**files, "consent_unit_test.yml": CONSENT_TEST})
    target = pg_dsn.rsplit("/", 1)[0] + "/" + database

    def read() -> dict[str, list[tuple[Any, ...]]]:
        with psycopg.connect(target) as con:
            return {
                name: con.execute(f'SELECT * FROM analytics."{name}"').fetchall()
                for name in _model_names(plan)
            }

    return _build(project, plan, sample, read, freshness=False)


@pytest.fixture(params=["duckdb", "postgres"])
def built(request: pytest.FixtureRequest) -> Built:
    return request.getfixturevalue("duck_built" if request.param == "duckdb" else "pg_built")


def test_dbt_build_runs_the_models_data_tests_and_every_scenario_as_a_unit_test(built: Built) -> None:
    log = built.build_log
    assert "ERROR=0" in log and "WARN=0" in log, log
    scenarios = len(built.plan.scenarios)
    assert f"{scenarios + 1} unit tests" in log, log  # the scenarios and the consent test
    assert "PASS consent_gate_keeps_email_without_consent_out" in log.replace("pe_verdicts::", "")
    for scenario in built.plan.scenarios:
        assert f"pe_scenario_{scenario.id.replace('-', '_')}" in log


def test_dbt_source_freshness_checks_every_source_within_its_sla(duck_built: Built) -> None:
    log = duck_built.freshness_log
    assert "Finished running 5 sources" in log, log
    assert log.count("PASS freshness of") == 5, log


def test_each_profile_model_holds_the_members_plans_size_counts(built: Built) -> None:
    layout = plan_layout(built.plan, exported_at=EXAMPLE_AT, draft=False)
    sizes = {p.profile_id: p for p in built.sizing.profiles}
    assert built.sizing.row_count == len(built.models["pe_verdicts"]) > 2000
    for profile in built.plan.profiles:
        rows = built.models[layout.profile_model(profile.id)]
        assert len(rows) == sizes[profile.id].net, profile.id
    winners = Counter(row[1] for row in built.models["pe_winner"])
    assert winners == Counter({p: s.winner for p, s in sizes.items() if s.winner}), winners
    assert all(sizes[p].net > 0 for p in sizes)


def test_members_scores_and_channel_equal_our_evaluator_record_by_record(built: Built) -> None:
    result = simulate(built.plan, built.records, EXAMPLE_AT)
    layout = plan_layout(built.plan, exported_at=EXAMPLE_AT, draft=False)
    ids = [record["user_id"] for record in built.records]
    for profile in built.plan.profiles:
        got = dict(built.models[layout.profile_model(profile.id)])
        expected = {
            ids[i]: v.scores.get(profile.id) for i, v in enumerate(result.records) if profile.id in v.members
        }
        assert got.keys() == expected.keys(), profile.id
        for key, score in expected.items():
            assert score is None if got[key] is None else got[key] == pytest.approx(score, rel=1e-9), key
    channel = dict(built.models["pe_channel_email"])
    expected_channel = {}
    for record, verdict in zip(built.records, result.records, strict=True):
        consented = record["email_opt_in"] is True and record["email_unsubscribed"] is False
        if verdict.winner in EMAIL_ACTIVATED and consented and not _held(built.plan, record, verdict.winner):
            expected_channel[record["user_id"]] = verdict.winner
    assert channel == expected_channel
    # The gate matters on this data: some email winners lack consent and are left out.
    email_winners = sum(1 for v in result.records if v.winner in EMAIL_ACTIVATED)
    assert 0 < len(channel) < email_winners


def test_the_channel_model_holds_no_record_whose_consent_is_false_or_missing(built: Built) -> None:
    by_id = {record["user_id"]: record for record in built.records}
    for user_id, _ in built.models["pe_channel_email"]:
        assert by_id[user_id]["email_opt_in"] is True
        assert by_id[user_id]["email_unsubscribed"] is False


def _held(plan: Plan, record: dict[str, Any], winner: str | None) -> bool:
    share = profile_shares(plan).get(winner) if winner else None
    return share is not None and in_holdout(plan_salt(plan), winner, record["user_id"], share)


def test_in_holdout_and_holdout_profile_equal_pythons_assignment_for_every_row(built: Built) -> None:
    """dbt's md5 in the warehouse's dialect and rules.holdout agree on every record of the sample."""
    result = simulate(built.plan, built.records, EXAMPLE_AT)
    winners = {row[0]: row[1:] for row in built.models["pe_winner"]}
    expected = {}
    for record, verdict in zip(built.records, result.records, strict=True):
        if verdict.winner is not None:
            held = _held(built.plan, record, verdict.winner)
            expected[record["user_id"]] = (verdict.winner, held, verdict.winner if held else None)
    assert winners == expected
    held_out = [key for key, (_, held, _) in winners.items() if held]
    # about 10% of the winners, and none of them reaches a channel (no fall-through either)
    assert 0.05 * len(winners) < len(held_out) < 0.15 * len(winners)
    assert not set(held_out) & {key for key, _ in built.models["pe_channel_email"]}
    verdicts = {row[0]: row for row in built.models["pe_verdicts"]}
    assert {key for key, row in verdicts.items() if row[2]} == set(held_out)

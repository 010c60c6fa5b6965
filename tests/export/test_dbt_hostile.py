"""A hostile plan built by dbt itself: reserved words and YAML 1.1 words as attribute names (the
record id is `user`, a PostgreSQL built-in), data source ids that collide once made safe, string
constants and free text holding Jinja, a half-life score near its limit, and scenarios (one with a
Jinja value, left out and named in the README). One `dbt build` on DuckDB and one on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pytest

from personalization_engine.export import build_export
from personalization_engine.export.dbt import plan_layout
from personalization_engine.model import Activation, Attribute, DataSource, Plan
from personalization_engine.rules import simulate

from ..audience.conftest import pg_dsn  # noqa: F401 (the PostgreSQL server fixture)
from ..rules.helpers import make_plan
from .dbt_project import DbtProject

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
JINJA = "{{ exceptions.raise_compiler_error('injected') }}"
KINDS = {"user": "integer", "on": "boolean", "order": "string", "select": "timestamp", "values": "number"}
SOURCES = {"user": "a-b", "on": "a_b", "order": "a-b", "select": "a_b", "values": "c"}
ROWS = [  # user, on, order, select, values
    (1, True, JINJA, "2026-11-24 08:00:00+00", 1e308),
    (2, True, "plain", "2026-11-24 08:59:30+00", -0.0),
    (3, None, JINJA, None, None),
    (4, False, "{%", "0001-01-02 00:00:00+00", 5e-324),
]


def hostile_plan() -> Plan:
    profiles = [
        {"id": "a-b", "name": JINJA, "priority": 1,
         "eligibility": {"all": [{"op": "eq", "attr": "order", "value": JINJA},
                                 {"op": "eq", "attr": "on", "value": True}]}},
        {"id": "a_b", "name": "{% raw %}", "priority": 1, "eligible_by": "score",
         "scoring": {"conditions": [{"when": {"op": "gte", "attr": "values", "value": -1}, "weight": 1e6}],
                     "threshold": 0.5, "decay": {"kind": "half_life", "attr": "select", "window": "1m"}}},
        {"id": "c", "name": "c", "priority": 2,
         "eligibility": {"op": "contains", "attr": "order", "value": "{%"}},
    ]  # fmt: skip
    scenarios = [
        {"id": "jinja-record", "record": {"user": 10, "order": JINJA, "on": True}, "expected_profile": "a-b",
         "as_of": NOW.isoformat()},
        {"id": "plain", "record": {"user": 11, "order": "x", "on": True, "values": 3,
                                    "select": "2026-11-24T08:59:00Z"},
         "expected_profile": "a_b", "as_of": NOW.isoformat()},
    ]  # fmt: skip
    plan = make_plan(
        profiles, attributes=[{"name": n, "type": k} for n, k in KINDS.items()], scenarios=scenarios
    )
    return plan.model_copy(
        update={
            "data_sources": tuple(
                DataSource(id=s, system=JINJA, access_method="warehouse_sql") for s in ("a-b", "a_b", "c")
            ),
            "attributes": tuple(
                Attribute(name=n, type=k, source_id=SOURCES[n], freshness_sla="1h", description=JINJA)
                for n, k in KINDS.items()
            ),
            "activations": (
                Activation(profile_id="a-b", channel="email", match_keys=("user",), consent_gate=("on",),
                           export_target="dbt", destination=JINJA, owner="{% if %}"),
                Activation(profile_id="a_b", channel="email", match_keys=("user",), export_target="dbt"),
            ),
        }
    )  # fmt: skip


class Warehouse:
    """Where the hostile plan's source tables live and dbt builds: a DuckDB file or a PostgreSQL
    database of its own."""

    def __init__(self, dialect: str, tmp_path: Path, server: str | None = None) -> None:
        self.dialect = dialect
        self.database = tmp_path / "hostile.duckdb"
        self.dsn = None if server is None else server.rsplit("/", 1)[0] + "/pe_dbt_hostile"
        self.server = server

    def profile(self) -> dict[str, Any]:
        if self.dsn is None:
            return {"type": "duckdb", "path": str(self.database)}
        dsn = urlparse(self.dsn)
        return {"type": "postgres", "host": dsn.hostname, "port": dsn.port or 5432, "user": dsn.username,
                "password": dsn.password or "", "dbname": "pe_dbt_hostile", "schema": "main"}  # fmt: skip

    def execute(self, statements: list[tuple[str, list[Any] | None]]) -> None:
        if self.dsn is None:
            with duckdb.connect(str(self.database)) as con:
                for sql, params in statements:
                    if params:
                        con.executemany(sql, params)
                    else:
                        con.execute(sql)
            return
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS pe_dbt_hostile")
            admin.execute("CREATE DATABASE pe_dbt_hostile")
        with psycopg.connect(self.dsn, autocommit=True) as con:
            for sql, params in statements:
                if params:
                    con.cursor().executemany(sql.replace("?", "%s"), params)
                else:
                    con.execute(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.dsn is None:
            with duckdb.connect(str(self.database), read_only=True) as con:
                return con.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.dsn) as con:
            return con.execute(sql).fetchall()


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    if request.param == "duckdb":
        return Warehouse("duckdb", tmp_path)
    return Warehouse("postgres", tmp_path, request.getfixturevalue("pg_dsn"))


def test_a_hostile_plan_builds_in_dbt_and_its_models_hold_the_expected_ids(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    plan = hostile_plan()
    bundle = build_export(plan, "dbt", exported_at=NOW, draft=False, dialect=warehouse.dialect)
    assert any("jinja-record" in note and "Jinja" in note for note in bundle.notes)
    layout = plan_layout(plan, exported_at=NOW, draft=False, dialect=warehouse.dialect)
    statements: list[tuple[str, list[Any] | None]] = [
        ('CREATE TABLE base ("user" BIGINT, "on" BOOLEAN, "order" VARCHAR, "select" TIMESTAMPTZ, '
         '"values" DOUBLE PRECISION)', None),
        ("INSERT INTO base VALUES (?, ?, ?, CAST(? AS TIMESTAMPTZ), ?)", ROWS),
    ]  # fmt: skip
    for name, attrs in layout.sources.values():
        listed = ", ".join(f'"{a}"' for a in ("user", *attrs))
        statements.append((f'CREATE SCHEMA "{name}"', None))
        statements.append(
            (f'CREATE TABLE "{name}".records AS SELECT {listed}, now() AS _loaded_at FROM base', None)
        )
    warehouse.execute(statements)
    project = DbtProject(tmp_path / "project", warehouse.profile())
    project.write(bundle.files)
    log = project.run("build", now=NOW).stdout
    assert "ERROR=0" in log and "1 unit test" in log, log
    winners = {row[0]: row[1] for row in warehouse.rows("SELECT * FROM main.pe_winner")}
    email = dict(warehouse.rows("SELECT * FROM main.pe_channel_email"))
    contains = warehouse.rows('SELECT "user" FROM main.pe_profile_c ORDER BY 1')
    # 1: order is the Jinja text and on is true; 2: 30 s old, so 1e6 halved half a time passes; 4:
    # '{%' contains '{%'; 3: on is unknown and select missing. The same as our evaluator says.
    records = [dict(zip(KINDS, (*row[:3], row[3] and row[3].replace(" ", "T") + ":00", row[4]), strict=True))
               for row in ROWS]  # fmt: skip
    expected = {
        r["user"]: v.winner for r, v in zip(records, simulate(plan, records, NOW).records, strict=True)
    }
    assert winners == {k: v for k, v in expected.items() if v} == {1: "a-b", 2: "a_b", 4: "c"}, winners
    # a-b needs `on` (true for 1); a_b has no gate; c is not activated on email
    assert email == {1: "a-b", 2: "a_b"}
    assert contains == [(4,)]

"""`plans size`, `sample-data` and the size_audiences MCP tool, with its progress notifications."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from mcp import Client

from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.server import build_server

from .conftest import snapshot


def test_sample_data_is_deterministic_and_matches_the_demo_inventory(tmp_path: Path, capsys):
    from personalization_engine.demo_content import ATTRIBUTES

    args = ["sample-data", "--rows", "500", "--now", "2026-11-24T09:00:00Z"]
    assert main([*args, str(tmp_path / "a.parquet")]) == 0
    assert main([*args, str(tmp_path / "b.csv")]) == 0
    assert "wrote 500 rows to" in capsys.readouterr().out
    con = duckdb.connect()
    a = con.execute(f"SELECT * FROM read_parquet('{tmp_path / 'a.parquet'}') ORDER BY id").fetchall()
    assert main([*args, str(tmp_path / "c.parquet")]) == 0
    assert con.execute(f"SELECT * FROM read_parquet('{tmp_path / 'c.parquet'}') ORDER BY id").fetchall() == a
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM '{tmp_path / 'b.csv'}'").fetchall()]
    assert columns == ["id", *(attribute["name"] for attribute in ATTRIBUTES)]
    assert len(a) == 500


def test_the_cli_offers_exactly_the_warehouse_dialects_the_audience_layer_writes():
    from personalization_engine.audience import WAREHOUSE_DIALECTS
    from personalization_engine.cli import audience_commands

    assert audience_commands.WAREHOUSE_DIALECTS == WAREHOUSE_DIALECTS


def test_sample_data_refuses_a_bad_row_count_or_suffix(tmp_path: Path, capsys):
    assert main(["sample-data", "--rows", "0", str(tmp_path / "a.parquet")]) == 2
    assert main(["sample-data", str(tmp_path / "a.json")]) == 2
    err = capsys.readouterr().err
    assert "error: rows: 0 is not a row count; use a whole number from 1 to" in err
    assert "a.json' must end in .parquet or .csv" in err


def test_plans_size_prints_sizes_and_a_progress_bar_on_stderr(
    demo_plan: str, users_parquet: Path, repo_dir: Path, capsys
):
    code = main(
        ["plans", "size", demo_plan, "--data", str(users_parquet), "--workspace", str(repo_dir),
         "--now", "2026-11-24T09:00:00Z", "--actor", "analyst"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "size-1: 3000 rows of data/users.parquet, rules of revision 2" in captured.out
    assert "new-trial-activation" in captured.out and "ACTIVATABLE AFTER CONSENT" in captured.out
    assert "100% stored sizing run size-1 in revision 3" in captured.err


def test_plans_size_with_a_dialect_writes_warehouse_sql_and_stores_nothing(
    engine: Engine, demo_plan: str, repo_dir: Path, capsys
):
    before = snapshot(engine, demo_plan)
    args = ["plans", "size", demo_plan, "--dialect", "bigquery", "--workspace", str(repo_dir)]
    assert main([*args, "--table", "analytics.users", "--now", "2026-11-24T09:00:00Z"]) == 0
    assert "FROM analytics.users" in capsys.readouterr().out
    assert main([*args, "--table", "my-project.analytics.users", "--now", "2026-11-24T09:00:00Z"]) == 0
    assert "FROM my-project.analytics.users" in capsys.readouterr().out
    snowflake = ["plans", "size", demo_plan, "--dialect", "snowflake", "--workspace", str(repo_dir)]
    assert main([*snowflake, "--table", "analytics.public.users", "--now", "2026-11-24T09:00:00Z"]) == 0
    assert "FROM analytics.public.users" in capsys.readouterr().out
    assert main(args) == 2
    assert "table: name the warehouse table" in capsys.readouterr().err
    assert snapshot(engine, demo_plan) == before


def test_plans_size_reports_an_outside_path_as_one_line(
    demo_plan: str, repo_dir: Path, tmp_path: Path, capsys
):
    outside = tmp_path / "x.parquet"
    outside.write_bytes(b"")
    assert main(["plans", "size", demo_plan, "--data", str(outside), "--workspace", str(repo_dir)]) == 2
    assert capsys.readouterr().err.startswith(f"error: data: '{outside}' is outside the workspace")


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_the_size_audiences_tool_stores_a_run_and_reports_progress(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with Client(build_server(engine)) as client:
        result = await client.call_tool(
            "size_audiences",
            {"plan_id": demo_plan, "data": "data/users.parquet", "expected_revision": 2},
            progress_callback=on_progress,
        )
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["write"]["revision"] == 3 and data["run"]["row_count"] == 3000
    assert engine.read_plan(demo_plan).sizing_runs[0].id == data["run"]["id"] == "size-1"
    assert updates[0][:2] == (1, 4.0) and updates[-1][:2] == (4.0, 4.0)
    assert updates[-1][2] == "stored sizing run size-1 in revision 3"


@pytest.mark.anyio
async def test_the_size_audiences_tool_returns_an_error_and_writes_nothing_for_a_stale_revision(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    before = snapshot(engine, demo_plan)
    async with Client(build_server(engine)) as client:
        result = await client.call_tool(
            "size_audiences", {"plan_id": demo_plan, "data": "data/users.parquet", "expected_revision": 1}
        )
    assert result.is_error
    assert "is at revision 2, not expected_revision 1" in json.dumps([c.model_dump() for c in result.content])
    assert snapshot(engine, demo_plan) == before

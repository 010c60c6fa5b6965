"""$PERSONALIZATION_ENGINE_DUCKDB_MEMORY_LIMIT: DuckDB sizing within a memory limit
(bench/bench_out_of_core.py measures 100,000,000 rows under 2 GB); a bad value is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from personalization_engine.audience import data_request, open_session
from personalization_engine.audience.duckdb_source import MEMORY_LIMIT_ENV
from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.core.sizing import size_plan

from .conftest import NOW, snapshot


def duckdb_setting(repo_dir: Path, plan, name: str) -> str:
    request = data_request(repo_dir, data="data/users.parquet", dsn=None, table=None)
    with open_session(request, plan, lambda *_: None) as session:
        return str(session.fetch_all(f"SELECT current_setting('{name}')")[0][0])


def test_sizing_under_a_small_memory_limit_counts_what_it_counts_without_one(
    engine: Engine, demo_plan: str, users_parquet: Path, repo_dir: Path, monkeypatch
):
    free = size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW).run
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "64MB")
    limited = size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW).run
    assert limited.profiles == free.profiles and limited.overlaps == free.overlaps
    plan = engine.read_plan(demo_plan)
    assert duckdb_setting(repo_dir, plan, "memory_limit") in ("61.0 MiB", "64.0 MB", "61.0MiB")
    spill = duckdb_setting(repo_dir, plan, "temp_directory")
    assert "personalization-engine-duckdb" in spill and not spill.startswith(str(repo_dir))


def test_without_the_variable_duckdb_keeps_its_own_limit(
    engine: Engine, demo_plan: str, users_parquet: Path, repo_dir: Path, monkeypatch
):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    spill = duckdb_setting(repo_dir, engine.read_plan(demo_plan), "temp_directory")
    assert "personalization-engine" not in spill


@pytest.mark.parametrize("value", ["lots", "2 GBs", "-1GB", "2GB; SET x = 1"])
def test_a_memory_limit_duckdb_cannot_take_is_refused_by_name_and_nothing_is_written(
    engine: Engine, demo_plan: str, users_parquet: Path, repo_dir: Path, monkeypatch, capsys, value: str
):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, value)
    before = snapshot(engine, demo_plan)
    code = main(["plans", "size", demo_plan, "--data", str(users_parquet), "--workspace", str(repo_dir)])
    assert code == 2
    assert f"${MEMORY_LIMIT_ENV} is {value!r}; use an amount such as 2GB or 512MB" in capsys.readouterr().err
    assert snapshot(engine, demo_plan) == before

"""Sizing with Spark (local mode): the same counts as DuckDB on the same files, read the same way.

Every test here shares one local session (tests/spark_helpers.py): starting one takes tens of seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from personalization_engine.audience import write_sample_data
from personalization_engine.core.engine import Engine
from personalization_engine.core.sizing import size_plan
from personalization_engine.errors import InputError
from personalization_engine.model.sizing import SizingRun

from .conftest import NOW, snapshot

pytestmark = pytest.mark.usefixtures("spark_master")


def figures(run: SizingRun) -> dict:
    """Everything a sizing run measured, without where and when it ran and the engine's type names."""
    dumped = run.model_dump(mode="json")
    for key in ("id", "at", "source", "actor", "rules_sha256", "plan_revision"):
        dumped.pop(key, None)
    for coverage in dumped["coverage"]:
        coverage.pop("column_type")
    return dumped


@pytest.fixture(scope="module")
def sample_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_data(tmp_path_factory.mktemp("samples") / "users.csv", 2000, reference=NOW)


def size(engine: Engine, plan_id: str, **options) -> SizingRun:
    return size_plan(engine, plan_id, actor="analyst", now=NOW, **options).run


def test_spark_counts_equal_duckdbs_on_the_same_parquet_profile_by_profile_and_channel_by_channel(
    engine: Engine, demo_plan: str, users_parquet: Path, spark_master: str
):
    duck = size(engine, demo_plan, data="data/users.parquet")
    spark = size(engine, demo_plan, data="data/users.parquet", engine_name="spark", spark_master=spark_master)
    assert spark.source.model_dump(exclude_none=True) == {
        "kind": "spark", "location": "data/users.parquet", "spark_master": spark_master
    }  # fmt: skip
    assert [(p.profile_id, p.eligible, p.net, p.winner) for p in spark.profiles] == [
        (p.profile_id, p.eligible, p.net, p.winner) for p in duck.profiles
    ]
    assert spark.channels == duck.channels and spark.activations == duck.activations
    assert spark.freshness == duck.freshness  # newest values come back as the same UTC instants
    assert figures(spark) == figures(duck)


def test_spark_reads_csv_with_the_inventorys_types_and_counts_as_duckdb_does(
    engine: Engine, demo_plan: str, repo_dir: Path, sample_csv: Path, spark_master: str
):
    shutil.copyfile(sample_csv, repo_dir / "users.csv")
    duck = size(engine, demo_plan, data="users.csv")
    spark = size(engine, demo_plan, data="users.csv", engine_name="spark", spark_master=spark_master)
    assert figures(spark) == figures(duck)


def test_a_csv_value_that_contradicts_the_inventory_is_refused_and_nothing_is_written(
    engine: Engine, demo_plan: str, repo_dir: Path, sample_csv: Path, spark_master: str
):
    lines = sample_csv.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("teammates_invited")] = "many"
    (repo_dir / "bad.csv").write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    before = snapshot(engine, demo_plan)
    with pytest.raises(InputError, match="contradicts the inventory's type") as caught:
        size(engine, demo_plan, data="bad.csv", engine_name="spark", spark_master=spark_master)
    assert "'many'" in str(caught.value) and "bad.csv" in str(caught.value)
    assert snapshot(engine, demo_plan) == before


def test_a_catalog_table_is_sized_by_name(
    engine: Engine, demo_plan: str, users_parquet: Path, spark_master: str
):
    from personalization_engine.audience.spark_session import spark_session

    spark = spark_session(spark_master)
    spark.sql("CREATE DATABASE IF NOT EXISTS pe_tests")
    spark.read.parquet(str(users_parquet)).write.mode("overwrite").saveAsTable("pe_tests.users")
    duck = size(engine, demo_plan, data="data/users.parquet")
    run = size(engine, demo_plan, table="spark_catalog.pe_tests.users", engine_name="spark",
               spark_master=spark_master)  # fmt: skip
    assert run.source.model_dump(exclude_none=True) == {
        "kind": "spark", "location": "Spark catalog", "table": "spark_catalog.pe_tests.users",
        "spark_master": spark_master,
    }  # fmt: skip
    assert figures(run) == figures(duck)
    before = snapshot(engine, demo_plan)
    with pytest.raises(InputError, match=r"table spark_catalog\.pe_tests\.nobody does not exist"):
        size(engine, demo_plan, table="spark_catalog.pe_tests.nobody", engine_name="spark",
             spark_master=spark_master)  # fmt: skip
    assert snapshot(engine, demo_plan) == before


def test_spark_writes_nothing_into_the_workspace_or_the_current_folder(
    engine: Engine, demo_plan: str, users_parquet: Path, spark_master: str, tmp_path: Path, monkeypatch
):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    size(engine, demo_plan, data="data/users.parquet", engine_name="spark", spark_master=spark_master)
    leftovers = ("spark-warehouse", "metastore_db", "derby.log")
    for folder in (engine.ws.root, elsewhere):
        assert not [p for p in folder.rglob("*") if p.name in leftovers], folder
    assert list(elsewhere.iterdir()) == []


def test_the_spark_session_runs_in_utc_with_ansi_mode(spark_master: str):
    from personalization_engine.audience.spark_session import spark_session

    spark = spark_session(spark_master)
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.ansi.enabled") == "true"
    assert spark.sql("SELECT CAST(TIMESTAMP '2026-11-24 09:00:00' AS STRING)").first()[0] == (
        "2026-11-24 09:00:00"
    )


def test_a_file_name_with_pattern_characters_colons_and_unicode_is_read_as_itself(
    engine: Engine, demo_plan: str, users_parquet: Path, spark_master: str
):
    odd = users_parquet.parent / "odd [1] {a,b} *?: ü.parquet"
    shutil.copyfile(users_parquet, odd)
    (users_parquet.parent / "odd [1] {a,b} xx: ü.parquet").write_bytes(b"not parquet")  # a glob would match
    progress: list[str] = []

    def listen(done: float, total: float, message: str) -> None:
        progress.append(message)

    outcome = size_plan(engine, demo_plan, data=str(odd), engine_name="spark", spark_master=spark_master,
                        actor="analyst", now=NOW, progress=listen)  # fmt: skip
    run = outcome.run
    assert run.row_count == 3000 and run.source.location == "data/odd [1] {a,b} *?: ü.parquet"
    assert progress[:2] == [
        f"opened a Spark session on {spark_master}",
        "read 19 columns of data/odd [1] {a,b} *?: ü.parquet",
    ]


def test_another_workspace_file_is_read_in_the_same_spark_session_as_a_view_of_its_own(
    engine: Engine, demo_plan: str, users_parquet: Path, spark_master: str
):
    from personalization_engine.audience.session import open_session
    from personalization_engine.audience.source import data_request

    outcomes = users_parquet.parent / "outcomes.csv"
    outcomes.write_text('id,converted,revenue\n1,true,"1,5"\n2,false,\n3,true,7.25\n')
    request = data_request(engine.ws.root, data=str(users_parquet), dsn=None, table=None, engine="spark",
                           spark_master=spark_master)  # fmt: skip
    plan = engine.read_plan(demo_plan)
    with open_session(request, plan, extra_files=(outcomes,)) as session:
        assert session.dialect == "databricks"
        view = session.file_relation(outcomes)
        rows = session.fetch_all(
            f"SELECT o.id, o.converted, o.revenue, r.id IS NOT NULL FROM {view} AS o "
            f"LEFT JOIN {session.relation} AS r ON r.id = o.id ORDER BY o.id"
        )
        assert rows == [(1, True, "1,5", True), (2, False, None, True), (3, True, "7.25", True)]
        with pytest.raises(InputError, match=r"users\.parquet was not opened with this data session"):
            session.file_relation(users_parquet)
        from personalization_engine.audience.spark_session import spark_session

        names = {t.name for t in spark_session(spark_master).catalog.listTables()}
        assert {view, session.relation} <= names
    assert not {view, session.relation} & {t.name for t in spark_session(spark_master).catalog.listTables()}

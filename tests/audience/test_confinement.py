"""Data is read only from inside the workspace, even when a DuckDB database points elsewhere."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from personalization_engine.core.engine import Engine
from personalization_engine.core.sizing import size_plan
from personalization_engine.errors import ConfinementError, InputError
from personalization_engine.paths import confined_path

from .conftest import NOW, snapshot

SECRET = "SECRET-7f3a9c"


@pytest.fixture
def outside_csv(tmp_path: Path, users_parquet: Path) -> Path:
    """The sample rows with a secret in every user_id, in a file outside the workspace."""
    target = tmp_path / "elsewhere" / "people.csv"
    target.parent.mkdir()
    duckdb.connect().execute(
        f"COPY (SELECT * REPLACE ('{SECRET}' AS user_id, '{SECRET}' AS plan_tier) "
        f"FROM read_parquet('{users_parquet}')) TO '{target}' (HEADER)"
    )
    return target


def _database_with(repo_dir: Path, *statements: str) -> None:
    with duckdb.connect(str(repo_dir / "data" / "crm.duckdb")) as con:
        for statement in statements:
            con.execute(statement)


@pytest.mark.parametrize(
    "definition",
    [
        "CREATE VIEW users AS SELECT * FROM read_csv('{csv}')",
        # Without the guard, DuckDB's conversion error would quote the secret.
        "CREATE VIEW users AS SELECT * REPLACE (CAST(CASE WHEN id = 7 THEN user_id ELSE "
        "CAST(onboarding_steps_completed AS VARCHAR) END AS BIGINT) AS onboarding_steps_completed) "
        "FROM read_csv('{csv}')",
        "CREATE MACRO people() AS TABLE SELECT * FROM read_csv('{csv}'); "
        "CREATE VIEW users AS SELECT * FROM people()",
    ],
    ids=["view", "view-that-fails-on-a-value", "macro"],
)
def test_a_duckdb_view_or_macro_over_a_file_outside_the_workspace_is_refused_without_its_data(
    engine: Engine, demo_plan: str, repo_dir: Path, outside_csv: Path, definition: str
):
    _database_with(repo_dir, *definition.format(csv=outside_csv).split("; "))
    before = snapshot(engine, demo_plan)
    with pytest.raises(InputError) as caught:
        size_plan(engine, demo_plan, data="data/crm.duckdb", table="users", actor="a", now=NOW)
    message = str(caught.value)
    assert message.startswith(
        "data: data/crm.duckdb table users reads outside the file itself (a view or macro over another "
        "file, an ATTACH or an extension), which sizing does not follow"
    )
    assert SECRET not in message
    assert snapshot(engine, demo_plan) == before


def test_a_duckdb_database_whose_table_holds_the_rows_is_still_sized(
    engine: Engine, demo_plan: str, repo_dir: Path, users_parquet: Path
):
    _database_with(
        repo_dir,
        f"CREATE TABLE people AS SELECT * FROM read_parquet('{users_parquet}')",
        "CREATE VIEW users AS SELECT * FROM people",
    )
    run = size_plan(engine, demo_plan, data="data/crm.duckdb", table="users", actor="a", now=NOW).run
    assert (run.row_count, run.source.table) == (3000, "users")


def test_confined_path_resolves_inside_the_workspace_and_refuses_what_leads_out(tmp_path: Path):
    root = tmp_path / "ws"
    (root / "data").mkdir(parents=True)
    (root / "data" / "users.csv").write_text("id\n1\n")
    (tmp_path / "secret.csv").write_text("id\n2\n")
    (root / "data" / "inside-link.csv").symlink_to(root / "data" / "users.csv")
    (root / "data" / "outside-link.csv").symlink_to(tmp_path / "secret.csv")
    (root / "escape").symlink_to(tmp_path)
    users = (root / "data" / "users.csv").resolve()
    assert confined_path(root, "data/users.csv", field="data") == users
    assert confined_path(root, str(users), field="data") == users
    assert confined_path(root, "data/inside-link.csv", field="data") == users
    assert (
        confined_path(root, "data/new/later.parquet", field="out")
        == root.resolve() / "data/new/later.parquet"
    )
    for given in (
        "../secret.csv",
        str(tmp_path / "secret.csv"),
        "data/outside-link.csv",
        "escape/secret.csv",
    ):
        with pytest.raises(ConfinementError) as caught:
            confined_path(root, given, field="data")
        assert str(caught.value) == (
            f"data: {given!r} is outside the workspace {str(root.resolve())!r} (symlinks that lead out "
            "count as outside); only paths inside it are used"
        )
    with pytest.raises(ConfinementError, match=r"^records: 'a\\x00b' is not a usable path"):
        confined_path(root, "a\x00b", field="records")

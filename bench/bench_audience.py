"""Audience sizing benchmark (issue 7). Prints figures; asserts only that every method counts the same.

DuckDB, 10,000,000 rows x 10 profiles (bench/audience_plan.py), measured side by side in one run:
  - `plans size` (size_plan in-process, and the CLI as a subprocess with its peak memory);
  - the hand-written baseline query bench/baseline_sizing.sql, SUM(CASE WHEN ...) columns as the issue
    defines it (goal: plans size <= 1.15x of it), and the same query with count_if, the form plans size
    generates for DuckDB;
  - the same rules as vectorised pandas boolean masks (goal: plans size >= 3x faster) and polars.
PostgreSQL, 1,000,000 rows: size_plan by DSN against the same SQL run through psql (goal: <= 1.2x).

Needs the bench extra (pandas, polars): pip install -e '.[bench]'. Not run in CI.
With holdouts (issue 17, the default), DuckDB is measured as bench/sizing_holdouts.py describes:
`plans size` against the fastest hand-written query with the same holdout hash (goal: <= 1.15x).
Run: /tmp/venv/bin/python bench/bench_audience.py [--rows 10000000] [--pg-rows 1000000] [--repeat 3]
     [--store duckdb|parquet]   (where the DuckDB rows live: a database table, the default, or Parquet)
     [--without-holdouts]       (issue 7's comparison instead) [--profile] (where the time goes)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from audience_plan import with_ten_profiles, with_ten_profiles_and_holdouts
from sizing_holdouts import bench_holdouts

from personalization_engine.audience import data_request, write_sample_data
from personalization_engine.audience.backends import measure_request
from personalization_engine.core.engine import Engine
from personalization_engine.core.sizing import size_plan
from personalization_engine.store.workspace import Workspace

NOW = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)
HERE = Path(__file__).parent
WEEK = 604_800.0


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def workspace(folder: Path) -> Engine:
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
        subprocess.run(["git", "-C", str(folder), "config", "user.name", "bench"], check=True)
        subprocess.run(["git", "-C", str(folder), "config", "user.email", "bench@example.com"], check=True)
    return Engine(Workspace(root=folder.resolve(), source="option"))


def new_plan(engine: Engine, holdouts: bool = False) -> str:
    plan_id = engine.create_plan(
        initiative="Bench", channels=["web", "in-app", "email"], actor="bench"
    ).plan_id
    content = with_ten_profiles_and_holdouts if holdouts else with_ten_profiles
    engine.apply(plan_id, "profiles", content, expected_revision=1, actor="bench")
    return plan_id


def run_figures(run, holdouts: bool = False) -> list[int]:
    """The counts of a stored run in the baseline query's column order."""
    figures = [run.row_count]
    for p in run.profiles:
        figures += [p.eligible, p.suppressed, p.removed_by_suppression, p.net, p.winner]
    figures += [o.both for o in run.overlaps]
    for a in run.activations:
        figures += [a.net, a.activatable]
    for c in run.channels:
        figures += [c.reachable, c.net_activatable]
    figures += [c.non_null for c in run.coverage]
    if holdouts:
        figures += [p.holdout for p in run.profiles]
    return figures


# --- pandas and polars: the same ten profiles as boolean masks ------------------------------------
def ts(text: str) -> np.datetime64:
    return np.datetime64(text)


def pandas_masks(df) -> tuple[list, list]:
    """(eligible, suppressed) per profile; unknown eligibility is False, unknown suppression True."""
    t, la, su = df["plan_tier"], df["last_active_at"], df["signup_at"]
    tm, ic, ob = df["teammates_invited"], df["integrations_connected"], df["onboarding_steps_completed"]
    unsub, optin = df["email_unsubscribed"], df["email_opt_in"]
    now = ts("2026-11-24T09:00:00")

    def within(col, days):
        return col >= now - np.timedelta64(days, "D")

    age = (now - la).dt.total_seconds()
    decay = np.where(la.isna(), 0.0, np.where(age <= 0, 1.0, np.power(0.5, age / WEEK)))
    score = (
        np.where(df["projects_created"] >= 3, 30.0, 0.0)
        + np.where(ic >= 1, 30.0, 0.0)
        + np.where(tm.between(1, 4), 40.0, 0.0)
    ) * decay
    e = [
        (t == "trial") & within(su, 14) & (ob < 5),
        (t == "trial") & (la < now - np.timedelta64(3, "D")) & df["trial_ends_at"].notna(),
        t.isin(["free", "trial", "pro"]) & within(la, 7) & (score >= 50),
        (t == "free") & (df["feature_adoption_score"] >= 70) & within(la, 7),
        (t == "free") & (la < now - np.timedelta64(30, "D")),
        (t == "pro") & within(la, 1),
        (t == "enterprise") & df["role"].isin(["engineer", "designer"]),
        (t == "free") & df["country"].isin(["DE", "FR", "NL", "ES"]),
        (ic >= 2) & (ob == 5),
        (t == "trial") & df["company_size"].isin(["201-1000", "1000+"]),
    ]
    s = [
        df["user_id"].isna() | (tm >= 5) | tm.isna(),
        unsub.fillna(True).astype(bool),
        (tm >= 10) | tm.isna(),
        (df["company_size"] == "1000+") | df["company_size"].isna(),
        unsub.fillna(True).astype(bool) | ~optin.fillna(False).astype(bool),
        df["in_app_messaging_disabled"].fillna(True).astype(bool),
        np.zeros(len(df), dtype=bool),
        ~df["personalization_consent"].fillna(False).astype(bool),
        np.zeros(len(df), dtype=bool),
        unsub.fillna(True).astype(bool),
    ]
    return [np.asarray(x, dtype=bool) for x in e], [np.asarray(x, dtype=bool) for x in s]


ACTIVATIONS = [(0, "in_app"), (0, "email"), (0, "web"), (1, "email"), (2, "in_app"), (2, "email"),
               (3, "web"), (3, "in_app"), (4, "email"), (5, "in_app"), (6, "web"), (7, "web"),
               (8, "in_app"), (9, "email")]  # fmt: skip
CHANNELS = [("web", [0, 3, 6, 7]), ("in_app", [0, 2, 3, 5, 8]), ("email", [0, 1, 2, 4, 9])]


def numpy_figures(rows: int, e: list, s: list, gates: dict, non_null: list[int]) -> list[int]:
    n = [ei & ~si for ei, si in zip(e, s, strict=True)]
    figures, taken = [rows], np.zeros(rows, dtype=bool)
    for ei, si, ni in zip(e, s, n, strict=True):
        figures += [
            int(ei.sum()),
            int(si.sum()),
            int((ei & si).sum()),
            int(ni.sum()),
            int((ni & ~taken).sum()),
        ]
        taken |= ni
    figures += [int((n[i] & n[j]).sum()) for i in range(10) for j in range(i + 1, 10)]
    for p, gate in ACTIVATIONS:
        figures += [int(n[p].sum()), int((n[p] & gates[gate]).sum())]
    for gate, members in CHANNELS:
        reach = np.logical_or.reduce([n[p] for p in members])
        figures += [int(reach.sum()), int((reach & gates[gate]).sum())]
    return figures + non_null


def pandas_sizing(df) -> list[int]:
    e, s = pandas_masks(df)
    gates = {
        "in_app": np.asarray(df["in_app_messaging_disabled"].eq(False).fillna(False), dtype=bool),
        "email": np.asarray(
            df["email_opt_in"].eq(True).fillna(False) & df["email_unsubscribed"].eq(False).fillna(False),
            dtype=bool,
        ),
        "web": np.asarray(df["personalization_consent"].eq(True).fillna(False), dtype=bool),
    }
    non_null = [int(v) for v in df.drop(columns=["id"]).notna().sum().to_numpy()]
    return numpy_figures(len(df), e, s, gates, non_null)


def polars_sizing(frame) -> list[int]:
    import polars as pl

    c = pl.col
    now = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)
    from datetime import timedelta

    def ago(days: float):
        return pl.lit(now - timedelta(days=days))

    def f(expr):  # unknown -> False
        return expr.fill_null(False)

    def t(expr):  # unknown -> True
        return expr.fill_null(True)

    age = (pl.lit(now) - c("last_active_at")).dt.total_microseconds() / 1e6
    decay = (
        pl.when(c("last_active_at").is_null())
        .then(0.0)
        .when(age <= 0)
        .then(1.0)
        .otherwise(0.5 ** (age / WEEK))
    )
    score = (
        pl.when(c("projects_created") >= 3).then(30.0).otherwise(0.0)
        + pl.when(c("integrations_connected") >= 1).then(30.0).otherwise(0.0)
        + pl.when(c("teammates_invited").is_between(1, 4)).then(40.0).otherwise(0.0)
    ) * decay
    tier = c("plan_tier")
    e = [
        f((tier == "trial") & (c("signup_at") >= ago(14)) & (c("onboarding_steps_completed") < 5)),
        f((tier == "trial") & (c("last_active_at") < ago(3)) & c("trial_ends_at").is_not_null()),
        f(tier.is_in(["free", "trial", "pro"]) & (c("last_active_at") >= ago(7))) & f(score >= 50),
        f((tier == "free") & (c("feature_adoption_score") >= 70) & (c("last_active_at") >= ago(7))),
        f((tier == "free") & (c("last_active_at") < ago(30))),
        f((tier == "pro") & (c("last_active_at") >= ago(1))),
        f((tier == "enterprise") & c("role").is_in(["engineer", "designer"])),
        f((tier == "free") & c("country").is_in(["DE", "FR", "NL", "ES"])),
        f((c("integrations_connected") >= 2) & (c("onboarding_steps_completed") == 5)),
        f((tier == "trial") & c("company_size").is_in(["201-1000", "1000+"])),
    ]
    s = [
        t(c("user_id").is_null() | (c("teammates_invited") >= 5)),
        t(c("email_unsubscribed")),
        t(c("teammates_invited") >= 10),
        t(c("company_size") == "1000+"),
        t(c("email_unsubscribed") | ~c("email_opt_in")),
        t(c("in_app_messaging_disabled")),
        pl.lit(False),
        t(~c("personalization_consent")),
        pl.lit(False),
        t(c("email_unsubscribed")),
    ]
    n = [ei & ~si for ei, si in zip(e, s, strict=True)]
    gates = {
        "in_app": f(c("in_app_messaging_disabled") == False),  # noqa: E712
        "email": f(c("email_opt_in") == True) & f(c("email_unsubscribed") == False),  # noqa: E712
        "web": f(c("personalization_consent") == True),  # noqa: E712
    }
    sums = [pl.len()]
    taken = pl.lit(False)
    for ei, si, ni in zip(e, s, n, strict=True):
        sums += [ei.sum(), si.sum(), (ei & si).sum(), ni.sum(), (ni & ~taken).sum()]
        taken = taken | ni
    sums += [(n[i] & n[j]).sum() for i in range(10) for j in range(i + 1, 10)]
    for p, gate in ACTIVATIONS:
        sums += [n[p].sum(), (n[p] & gates[gate]).sum()]
    for gate, members in CHANNELS:
        reach = pl.any_horizontal([n[p] for p in members])
        sums += [reach.sum(), (reach & gates[gate]).sum()]
    names = [name for name in frame.collect_schema().names() if name != "id"]
    sums += [c(name).count() for name in names]
    result = frame.select([x.alias(f"f{i}") for i, x in enumerate(sums)])
    row = (result.collect() if isinstance(result, pl.LazyFrame) else result).row(0)
    return [int(v) for v in row]


# --- runs ---------------------------------------------------------------------------------------
def bench_duckdb(folder: Path, rows: int, repeat: int, store: str, holdouts: bool, profile: bool) -> None:
    """`store` is where the rows live: a DuckDB database (table users) or the Parquet file itself.

    With `holdouts` (the default) it runs bench/sizing_holdouts.py, issue 17's comparison; without,
    issue 7's (the SUM(CASE) and count_if baselines, pandas and polars).
    """
    engine = workspace(folder)
    parquet = folder / f"users-{rows}.parquet"
    if not parquet.exists():
        seconds, _ = timed(lambda: write_sample_data(parquet, rows, reference=NOW))
        print(
            f"sample-data: {rows:,} rows in {seconds:.1f} s ({parquet.stat().st_size / 1e6:.0f} MB parquet)"
        )
    data, source, table = parquet, f"read_parquet('{parquet}')", []
    if store == "duckdb":
        data, source, table = folder / f"users-{rows}.duckdb", "users", ["--table", "users"]
        if not data.exists():
            with duckdb.connect(str(data)) as con:
                con.execute(f"CREATE TABLE users AS SELECT * FROM read_parquet('{parquet}')")
    plan_id = new_plan(engine, holdouts)
    baseline_sql = (HERE / "baseline_sizing.sql").read_text().replace("{source}", source)
    count_if_sql = re.sub(r"SUM\(CASE WHEN (.*?) THEN 1 ELSE 0 END\)", r"count_if(\1)", baseline_sql)

    def query(sql: str) -> tuple:
        # A fresh connection per run, as plans size opens one: no run inherits a warm buffer pool.
        with duckdb.connect(str(data), read_only=True) if store == "duckdb" else duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            return con.execute(sql).fetchone()  # type: ignore[return-value]

    where = "a DuckDB database (table users)" if store == "duckdb" else "a Parquet file (zstd)"
    if holdouts:
        print(f"\nDuckDB, {rows:,} rows x 10 profiles in {where}")
        bench_holdouts(engine, plan_id, data, table, count_if_sql, query, run_figures, NOW, repeat, profile)
        return

    times: dict[str, list[float]] = {k: [] for k in ("size", "cli", "baseline", "count_if")}
    results: dict[str, list[int]] = {}
    peaks: list[float] = []
    cli = [sys.executable, "-m", "personalization_engine.cli.main", "plans", "size", plan_id, "--data",
           str(data), *table, "--workspace", str(folder), "--now", NOW.isoformat(), "--json"]  # fmt: skip
    # SQL methods side by side first, before any data frame fills this process's heap (a large heap
    # slows the in-process run through the garbage collector, not through the query).
    for _ in range(repeat):
        seconds, done = timed(
            lambda: subprocess.run(["/usr/bin/time", "-f", "%M", *cli], check=True, capture_output=True)
        )
        times["cli"].append(seconds)
        peaks.append(int(done.stderr.decode().strip().splitlines()[-1]) / 1024)  # type: ignore[attr-defined]
        seconds, row = timed(lambda: query(baseline_sql))
        times["baseline"].append(seconds)
        results["baseline"] = [int(v) for v in row[:-3]]  # type: ignore[index]
        seconds, outcome = timed(
            lambda: size_plan(
                engine, plan_id, data=str(data), table=table[-1] if table else None, actor="b", now=NOW
            )
        )
        times["size"].append(seconds)
        results["size"] = run_figures(outcome.run)  # type: ignore[attr-defined]
        seconds, row = timed(lambda: query(count_if_sql))
        times["count_if"].append(seconds)
        results["count_if"] = [int(v) for v in row[:-3]]  # type: ignore[index]

    import pandas as pd
    import polars as pl

    load_pandas, df = timed(lambda: pd.read_parquet(parquet))
    load_polars, frame = timed(lambda: pl.read_parquet(parquet))
    df["signup_at"] = df["signup_at"].dt.tz_convert(None)
    df["last_active_at"] = df["last_active_at"].dt.tz_convert(None)
    for name in ("pandas", "polars", "polars_lazy"):
        times[name] = []
    for _ in range(repeat):
        seconds, results["pandas"] = timed(lambda: pandas_sizing(df))
        times["pandas"].append(seconds)
        seconds, results["polars"] = timed(lambda: polars_sizing(frame))
        times["polars"].append(seconds)
        seconds, results["polars_lazy"] = timed(lambda: polars_sizing(pl.scan_parquet(parquet)))
        times["polars_lazy"].append(seconds)
    for name, figures in results.items():
        wrong = [i for i, (a, b) in enumerate(zip(figures, results["size"], strict=True)) if a != b]
        assert not wrong, f"{name} counts differ from plans size at {wrong[:10]}"
    m = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"\nDuckDB, {rows:,} rows x 10 profiles in {where}, median of {repeat}; "
        "all methods agree on every count:"
    )
    print(f"  plans size (CLI, whole command)          {m['cli']:7.2f} s   peak RSS {max(peaks):,.0f} MB")
    print(f"  plans size (size_plan, in-process)       {m['size']:7.2f} s")
    print(
        f"  baseline query, SUM(CASE WHEN ...)       {m['baseline']:7.2f} s   "
        f"plans size / baseline: CLI {m['cli'] / m['baseline']:.2f}x, "
        f"in-process {m['size'] / m['baseline']:.2f}x"
    )
    print(
        f"  the baseline with count_if               {m['count_if']:7.2f} s   "
        f"plans size / it: CLI {m['cli'] / m['count_if']:.2f}x, in-process {m['size'] / m['count_if']:.2f}x"
    )
    print(
        f"  pandas masks (data already in memory)    {m['pandas']:7.2f} s   "
        f"plans size (CLI) is {m['pandas'] / m['cli']:.1f}x faster; pandas read_parquet {load_pandas:.1f} s"
    )
    print(
        f"  polars expressions (data in memory)      {m['polars']:7.2f} s   "
        f"polars read_parquet {load_polars:.1f} s"
    )
    print(f"  polars lazy scan_parquet                 {m['polars_lazy']:7.2f} s")  # fmt: skip


def bench_postgres(folder: Path, rows: int, repeat: int) -> None:
    import psycopg

    dsn = os.environ.get("PERSONALIZATION_ENGINE_TEST_PG_DSN")
    started = False
    if not dsn:
        out = subprocess.run(["bash", str(HERE.parent / ".ci/postgres.sh"), "start"], check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
        dsn = out.strip().split("=", 1)[1]
        started = True
    try:
        engine = workspace(folder)
        plan_id = new_plan(engine)
        data = folder / f"users-{rows}.csv"
        if not data.exists():
            write_sample_data(data, rows, reference=NOW)
        con = duckdb.connect()
        described = con.execute(f"DESCRIBE SELECT * FROM read_csv('{data}')").fetchall()
        types = {"VARCHAR": "text", "BIGINT": "bigint", "DOUBLE": "double precision", "BOOLEAN": "boolean",
                 "TIMESTAMP WITH TIME ZONE": "timestamptz"}  # fmt: skip
        with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench_users")
            cur.execute(
                f"CREATE TABLE bench_users ({', '.join(f'{n} {types[k]}' for n, k, *_ in described)})"
            )
            with (
                cur.copy("COPY bench_users FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
                data.open("rb") as f,
            ):
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            cur.execute("ANALYZE bench_users")
        plan = engine.read_plan(plan_id)
        # The statement size_plan runs: one measurement of the same request, as each attempt makes.
        request = data_request(folder, data=None, dsn=dsn, table="bench_users")
        sql = measure_request(request, plan, NOW).query.sql
        psql = ["psql", dsn, "-X", "-q", "-A", "-t", "-c", "SET TIME ZONE 'UTC'", "-c", sql]
        ours, theirs = [], []
        for _ in range(repeat):
            seconds, _ = timed(
                lambda: size_plan(engine, plan_id, dsn=dsn, table="bench_users", actor="b", now=NOW)
            )
            ours.append(seconds)
            seconds, _ = timed(lambda: subprocess.run(psql, check=True, capture_output=True))
            theirs.append(seconds)
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"\nPostgreSQL, {rows:,} rows x 10 profiles, median of {repeat}:")
        print(f"  size_plan by DSN (connect, schema, query, store)  {a:6.2f} s")
        print(f"  the same SQL through psql                         {b:6.2f} s   ratio {a / b:.2f}x")
    finally:
        if started:
            subprocess.run(
                ["bash", str(HERE.parent / ".ci/postgres.sh"), "stop"], check=False, capture_output=True
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--pg-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/personalization-engine-bench-audience")
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--store", choices=["duckdb", "parquet"], default="duckdb", help="where the DuckDB rows live"
    )
    parser.add_argument(
        "--without-holdouts", action="store_true", help="issue 7's comparison (no holdouts, pandas, polars)"
    )
    parser.add_argument("--profile", action="store_true", help="with holdouts: where plans size's time goes")
    args = parser.parse_args()
    folder = Path(args.dir)
    print(f"machine: {os.cpu_count()} cores; duckdb {duckdb.__version__}")
    if not args.skip_duckdb:
        bench_duckdb(
            folder / "duckdb", args.rows, args.repeat, args.store, not args.without_holdouts, args.profile
        )
    if not args.skip_postgres:
        bench_postgres(folder / "postgres", args.pg_rows, args.repeat)


if __name__ == "__main__":
    main()

"""Spark sizing benchmark (issue 17). Prints figures; asserts only that every method counts the same.

The 10-profile benchmark plan (bench/audience_plan.py) on sample-data Parquet, in one process and
one Spark session (local mode), measured interleaved round by round:
  - `plans size --engine spark`: size_plan in-process (request, schema, the query, ledger write and
    git commit), and the query alone (measure_request);
  - the hand-written baseline bench/baseline_sizing.sql in Spark SQL through the same session, with
    count_if (the fastest form; goal: plans size <= 1.15x of it) and with SUM(CASE WHEN ...);
  - DuckDB's `plans size` on the same file, beside it.
The session's start (tens of seconds, once per process) is reported separately and timed nowhere
else. Not run in CI.

Run: .venv/bin/python bench/bench_spark.py [--rows 10000000] [--repeat 5] [--master local[*]]
     [--folder /tmp/pe-bench-spark]   (sample data is written once and reused)
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_audience import NOW, new_plan, run_figures, timed, workspace

from personalization_engine.audience import data_request, write_sample_data
from personalization_engine.audience.backends import measure_request
from personalization_engine.audience.spark_session import spark_session, stop_all
from personalization_engine.core.sizing import size_plan

HERE = Path(__file__).parent
VIEW = "pe_bench_users"


def spark_baselines(view: str) -> tuple[str, str]:
    """bench/baseline_sizing.sql in Spark SQL: (count_if form, SUM(CASE WHEN ...) form)."""
    sql = (HERE / "baseline_sizing.sql").read_text().replace("{source}", view)
    sql = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    # DuckDB's TIMESTAMPTZ literal and epoch(): the session time zone is UTC, so TIMESTAMP is the same
    # instant, and unix_micros / 1e6 is epoch's seconds.
    sql = re.sub(r"TIMESTAMPTZ '([^']*)\+00'", r"TIMESTAMP '\1'", sql)
    sql = re.sub(r"epoch\(([^()]*(?:\([^()]*\))?[^()]*)\)", r"(unix_micros(\1) / 1e6)", sql)
    count_if = re.sub(r"SUM\(CASE WHEN (.*?) THEN 1 ELSE 0 END\)", r"count_if(\1)", sql)
    return count_if, sql


def median_table(times: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/pe-bench-spark"))
    args = parser.parse_args()

    engine = workspace(args.folder / "ws")
    data = args.folder / "ws" / "data" / f"users-{args.rows}.parquet"
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        seconds, _ = timed(lambda: write_sample_data(data, args.rows, reference=NOW))
        print(f"wrote {args.rows:,} rows to {data} in {seconds:.1f} s", file=sys.stderr)
    plan_id = new_plan(engine)
    relative = data.relative_to(engine.ws.root).as_posix()

    started, session = timed(lambda: spark_session(args.master))
    print(f"Spark session on {args.master} started in {started:.1f} s (not in any figure below)")
    session.read.parquet(str(data)).createOrReplaceTempView(VIEW)  # type: ignore[attr-defined]
    count_if_sql, sum_case_sql = spark_baselines(VIEW)
    request = data_request(engine.ws.root, data=relative, dsn=None, table=None, engine="spark",
                           spark_master=args.master)  # fmt: skip
    plan = engine.read_plan(plan_id)

    def spark_query(sql: str) -> list[int]:
        row = session.sql(sql).collect()[0]  # type: ignore[attr-defined]
        return [int(v) for v in list(row)[:-3]]  # the last three are the newest timestamps

    methods = {
        "size_spark": lambda: run_figures(size_plan(engine, plan_id, data=relative, engine_name="spark",
                                                    spark_master=args.master, actor="bench", now=NOW).run),
        "query_spark": lambda: measure_request(request, plan, NOW).values["row_count"],
        "count_if": lambda: spark_query(count_if_sql),
        "sum_case": lambda: spark_query(sum_case_sql),
        "size_duckdb": lambda: run_figures(size_plan(engine, plan_id, data=relative, actor="bench",
                                                     now=NOW).run),
    }  # fmt: skip
    for fn in methods.values():  # one warm-up round: JIT, file listing and metadata caches
        fn()
    times: dict[str, list[float]] = {name: [] for name in methods}
    results: dict[str, object] = {}
    for _ in range(args.repeat):
        for name, fn in methods.items():
            seconds, value = timed(fn)
            times[name].append(seconds)
            results[name] = value
    figures = {k: v for k, v in results.items() if k != "query_spark"}
    first = figures["size_spark"]
    assert all(value == first for value in figures.values()), "the methods disagree on the counts"
    assert results["query_spark"] == args.rows

    m = median_table(times)
    print(f"{args.rows:,} rows x 10 profiles, Parquet, medians of {args.repeat} interleaved rounds:")
    print(f"  plans size --engine spark, in-process    {m['size_spark']:7.2f} s")
    print(f"  its query alone (measure_request)         {m['query_spark']:7.2f} s")
    print(f"  hand-written Spark SQL, count_if          {m['count_if']:7.2f} s   "
          f"plans size / it: {m['size_spark'] / m['count_if']:.2f}x (query alone "
          f"{m['query_spark'] / m['count_if']:.2f}x; goal <= 1.15x)")  # fmt: skip
    print(f"  hand-written Spark SQL, SUM(CASE WHEN)    {m['sum_case']:7.2f} s   "
          f"plans size / it: {m['size_spark'] / m['sum_case']:.2f}x")  # fmt: skip
    print(f"  plans size on DuckDB, in-process          {m['size_duckdb']:7.2f} s   "
          f"Spark / DuckDB: {m['size_spark'] / m['size_duckdb']:.2f}x")  # fmt: skip
    print("  all rounds: " + ", ".join(f"{k} " + "/".join(f"{t:.2f}" for t in v) for k, v in times.items()))
    stop_started = time.perf_counter()
    stop_all()
    print(f"  (session stopped in {time.perf_counter() - stop_started:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()

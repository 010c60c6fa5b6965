"""The sizing benchmark with holdouts (issue 17), and where plans size's time goes against the fastest
hand-written DuckDB query. Run through bench/bench_audience.py (it is its holdouts section).

Methods, interleaved run by run, each on a fresh DuckDB connection:
  - `plans size` as a whole command (a subprocess: Python start-up, imports, the query, the write and
    the git commit) and in-process (size_plan);
  - the hand-written baseline (bench/baseline_sizing.sql in its count_if form, the fastest form) with
    the holdout added as a data engineer would: one CTE that hashes each row for its winner.
`--profile` adds the breakdown: the generated SQL alone, without its overlap outputs, without its
coverage and freshness outputs, measure_request (open, schema, query), and Python start-up.
"""

from __future__ import annotations

import math
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from audience_plan import HOLDOUT_SHARES

from personalization_engine.audience import data_request
from personalization_engine.audience.backends import measure_request
from personalization_engine.core.engine import Engine
from personalization_engine.core.sizing import size_plan


def holdout_baseline(count_if_sql: str, salt: str, profile_ids: list[str]) -> str:
    """The count_if baseline with holdouts, as a data engineer would add them by hand.

    One more CTE assigns each row to the holdout of its winning profile (a CASE on the winner, so each
    row is hashed once, with the documented md5 bucket); activatable figures leave held-out rows out;
    the ten holdout counts go before the three max() columns the comparison drops.
    """
    branches = []
    for i, (pid, share) in enumerate(zip(profile_ids, HOLDOUT_SHARES, strict=True)):
        limit = math.ceil(share * 16**15)
        text = f"'{salt}' || chr(31) || '{pid}' || chr(31) || CAST(id AS VARCHAR)"
        bucket = f"CAST('0x' || substr(md5({text}), 1, 15) AS BIGINT)"
        branches.append(f"WHEN n{i} THEN CASE WHEN {bucket} < {limit} THEN {i} END")
    sql = count_if_sql.replace("    user_id, email, plan_tier,", "    id, user_id, email, plan_tier,")
    assigned = f"assigned AS (\n  SELECT *, CASE {' '.join(branches)} END AS held FROM members\n)"
    sql = sql.replace("  FROM flags\n)\nSELECT", f"  FROM flags\n),\n{assigned}\nSELECT")
    sql = re.sub(r"count_if\((n\d AND \w+_ok)\)", r"count_if(\1 AND held IS NULL)", sql)
    sql = re.sub(r"count_if\((\([n\d OR]+\) AND \w+_ok)\)", r"count_if(\1 AND held IS NULL)", sql)
    held = ", ".join(f"count_if(held = {i})" for i in range(len(profile_ids)))
    sql = sql.replace("  max(signup_at),", f"  {held},\n  max(signup_at),")
    assert sql.count("held IS NULL") == 17 and "FROM members" in sql[-20:], "baseline template changed"
    return sql[: sql.rindex("FROM members")] + "FROM assigned\n"


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def without_outputs(sql: str, pattern: str) -> str:
    """The generated sizing SQL without the outer outputs whose names match `pattern` (one per line)."""
    kept = [line for line in sql.split("\n") if not re.search(rf" AS {pattern}\w*,?$", line)]
    return re.sub(r",\nFROM \(", "\nFROM (", "\n".join(kept))


def bench_holdouts(
    engine: Engine,
    plan_id: str,
    data: Path,
    table: list[str],
    count_if_sql: str,
    query: Callable[[str], tuple],
    run_figures: Callable[..., list[int]],
    now: datetime,
    repeat: int,
    profile: bool,
) -> None:
    folder = engine.ws.root
    plan = engine.read_plan(plan_id)
    baseline = holdout_baseline(count_if_sql, plan_id, [p.id for p in plan.profiles])
    cli = [sys.executable, "-m", "personalization_engine.cli.main", "plans", "size", plan_id, "--data",
           str(data), *table, "--workspace", str(folder), "--now", now.isoformat(), "--json"]  # fmt: skip
    request = data_request(folder, data=str(data), dsn=None, table=table[-1] if table else None)
    generated = measure_request(request, plan, now).query.sql
    variants = {
        "cli": lambda: subprocess.run(cli, check=True, capture_output=True),
        "size": lambda: size_plan(
            engine, plan_id, data=str(data), table=table[-1] if table else None, actor="b", now=now
        ),
        "baseline": lambda: query(baseline),
    }
    if profile:
        variants |= {
            "generated_sql": lambda: query(generated),
            "no_overlaps": lambda: query(without_outputs(generated, "overlap_")),
            "no_coverage": lambda: query(without_outputs(generated, "(non_null_|newest_|future_)")),
            "measure": lambda: measure_request(request, plan, now),
            "startup": lambda: subprocess.run(
                [sys.executable, "-c", "import personalization_engine.cli.main"], check=True
            ),
        }
    times: dict[str, list[float]] = {name: [] for name in variants}
    results: dict[str, list[int]] = {}
    for _ in range(repeat):
        for name, fn in variants.items():
            seconds, value = timed(fn)
            times[name].append(seconds)
            if name == "size":
                results[name] = run_figures(value.run, holdouts=True)  # type: ignore[attr-defined]
            elif name == "baseline":
                results[name] = [int(v) for v in value[:-3]]  # type: ignore[index]
    wrong = [i for i, (a, b) in enumerate(zip(results["baseline"], results["size"], strict=True)) if a != b]
    assert not wrong, f"the hand-written holdout query differs from plans size at {wrong[:10]}"
    m = {k: statistics.median(v) for k, v in times.items()}
    held = sum(p.holdout or 0 for p in engine.read_plan(plan_id).sizing_runs[-1].profiles)
    print(f"\nWith holdouts ({held:,} winners held out), interleaved medians of {repeat}; counts agree:")
    print(f"  plans size (CLI, whole command)          {m['cli']:7.2f} s   {m['cli'] / m['baseline']:.2f}x")
    print(f"  plans size (size_plan, in-process)       {m['size']:7.2f} s   {m['size'] / m['baseline']:.2f}x")
    print(f"  hand-written count_if query + holdout    {m['baseline']:7.2f} s   1.00x")
    if profile:
        for name, label in (
            ("generated_sql", "the generated SQL alone"),
            ("no_overlaps", "  without its 45 overlap outputs"),
            ("no_coverage", "  without its coverage/freshness outputs"),
            ("measure", "measure_request (open, schema, query)"),
            ("startup", "Python start-up + CLI imports"),
        ):
            print(f"  {label:40} {m[name]:7.2f} s   {m[name] / m['baseline']:.2f}x")

"""Out-of-core sizing benchmark (issue 17): DuckDB sizes 100,000,000 rows of Parquet under a 2 GB limit.

`sample-data` writes the rows (bench/audience_plan.py's 10-profile plan reads the demo inventory);
`plans size --data` then runs as a whole command with $PERSONALIZATION_ENGINE_DUCKDB_MEMORY_LIMIT
set, interleaved with the same command without a limit. Each run's peak RSS is the child's own
(os.wait4), so neither this process nor the data generation counts. Asserts that every run
completed, counted every row, and that both settings count the same; prints time and peak memory.
The Parquet file is deleted afterwards unless --keep.

Smoke: .venv/bin/python bench/bench_out_of_core.py --rows 10000000
Full:  .venv/bin/python bench/bench_out_of_core.py --rows 100000000 --repeat 3   (~2.2 GB of disk;
       sample-data alone took 353 s for 10M rows on the busy 2-core machine)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_audience import NOW, new_plan, workspace

MEMORY_ENV = "PERSONALIZATION_ENGINE_DUCKDB_MEMORY_LIMIT"
BYTES_PER_ROW = 40  # the sample rows take ~22 bytes each as Parquet; keep headroom


def run_child(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, the child's own peak RSS in MB, and its stdout."""
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # communicate() reaps the child itself; wait4 first, on a pipe-draining thread, keeps its rusage.
    out_chunks: list[bytes] = []

    def drain() -> None:
        assert child.stdout is not None and child.stderr is not None
        out_chunks.append(child.stdout.read())
        child.stderr.read()

    reader = threading.Thread(target=drain)
    reader.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    reader.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])}... failed with exit code {child.returncode}")
    return seconds, usage.ru_maxrss / 1024, b"".join(out_chunks).decode()


def replicate(sample: Path, out: Path, rows: int) -> float:
    """`rows` rows as whole copies of a sample-data file, each copy's ids shifted past the last:
    every row is a real sample person, and the ids stay unique (the holdout hashes them).

    It runs in a child process: Linux counts a child's peak RSS from its parent's at fork, so a
    parent that had DuckDB copy 100M rows would lend its own peak to every sizing run measured after.
    """
    script = (
        "import sys, duckdb\n"
        "sample, out, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
        "con = duckdb.connect()\n"
        "per = con.execute('SELECT count(*) FROM read_parquet(?)', [sample]).fetchone()[0]\n"
        "assert rows % per == 0, f'{rows} is not a whole number of copies of {per} rows'\n"
        'con.execute(f"COPY (SELECT * REPLACE (id + k * {per} AS id) FROM range({rows // per}) AS c(k), "\n'
        "            f\"read_parquet('{sample}')) TO '{out}' (FORMAT parquet)\")\n"
    )
    command = [sys.executable, "-c", script, str(sample), str(out), str(rows)]
    seconds, _, _ = run_child(command, dict(os.environ))
    return seconds


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "personalization_engine.cli.main", *args]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/pe-bench-out-of-core"))
    parser.add_argument("--keep", action="store_true", help="keep the Parquet file for another run")
    parser.add_argument(
        "--replicate",
        type=Path,
        metavar="PARQUET",
        help="build the rows from copies of this sample-data file (ids shifted per copy) instead of "
        "writing them with sample-data: 10 copies of 10M rows take about a minute, sample-data ~15",
    )
    args = parser.parse_args()

    engine = workspace(args.folder)
    parquet = args.folder / f"users-{args.rows}.parquet"
    base_env = {k: v for k, v in os.environ.items() if k != MEMORY_ENV}
    if not parquet.exists():
        free = shutil.disk_usage(args.folder).free
        if free < args.rows * BYTES_PER_ROW:
            raise SystemExit(f"{free / 1e9:.1f} GB free in {args.folder}; {args.rows:,} rows need ~"
                             f"{args.rows * BYTES_PER_ROW / 1e9:.1f} GB")  # fmt: skip
        if args.replicate:
            seconds = replicate(args.replicate, parquet, args.rows)
            print(f"{args.rows:,} rows as copies of {args.replicate.name} in {seconds:.1f} s, "
                  f"{parquet.stat().st_size / 1e9:.2f} GB of Parquet")  # fmt: skip
        else:
            seconds, peak, _ = run_child(
                cli("sample-data", "--rows", str(args.rows), "--now", NOW.isoformat(), str(parquet)), base_env
            )
            print(f"sample-data: {args.rows:,} rows in {seconds:.1f} s, peak RSS {peak:,.0f} MB, "
                  f"{parquet.stat().st_size / 1e9:.2f} GB of Parquet")  # fmt: skip
    plan_id = new_plan(engine)
    size = cli("plans", "size", plan_id, "--data", str(parquet), "--workspace", str(args.folder),
               "--now", NOW.isoformat(), "--json")  # fmt: skip
    settings = {"limited": {**base_env, MEMORY_ENV: args.memory_limit}, "unlimited": base_env}
    times: dict[str, list[float]] = {name: [] for name in settings}
    peaks: dict[str, list[float]] = {name: [] for name in settings}
    counts: dict[str, list] = {}
    try:
        for _ in range(args.repeat):
            for name, env in settings.items():  # interleaved: both see the same machine load
                seconds, peak, out = run_child(size, env)
                run = json.loads(out)["run"]
                assert run["row_count"] == args.rows, run["row_count"]
                counts[name] = run["profiles"]
                times[name].append(seconds)
                peaks[name].append(peak)
        assert counts["limited"] == counts["unlimited"], "the memory limit changed the counts"
    finally:
        if not args.keep:
            parquet.unlink(missing_ok=True)
    limited, unlimited = statistics.median(times["limited"]), statistics.median(times["unlimited"])
    print(f"\nplans size, {args.rows:,} rows x 10 profiles of Parquet, median of {args.repeat} "
          f"(whole command; both count the same):")  # fmt: skip
    for label, name, seconds in (
        (f"{MEMORY_ENV}={args.memory_limit}", "limited", limited),
        ("no limit (DuckDB's default, 80% of RAM)", "unlimited", unlimited),
    ):
        print(f"  {label:<52} {seconds:8.2f} s   peak RSS {max(peaks[name]):,.0f} MB")
    print(f"  limited / unlimited: {limited / unlimited:.2f}x")


if __name__ == "__main__":
    main()

"""Deterministic synthetic profile records for the demo plan's inventory, generated in DuckDB SQL.

One row per person: `id` plus a column per attribute of demo_content.ATTRIBUTES, with realistic
nulls (consent states unknown, enrichment gaps), skew (most users are free, activity is recent-heavy,
counts are long-tailed) and timestamps relative to a reference time. A counter-based hash makes
every value a pure function of (seed, row, column), so the same arguments give the same file on any
number of threads.

Rows stream from range() into the file in id order without a sort (DuckDB keeps insertion order
when copying), so memory stays bounded however many rows are asked for: an ORDER BY here held all
5 million rows of the README's largest example in memory (1.7 GB).
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime, timezone
from pathlib import Path

from ..errors import InputError
from .backends import Progress, no_progress, run_with_progress

SAMPLE_FORMATS = (".parquet", ".csv")
MAX_ROWS = 500_000_000
# lowbias32 (Chris Wellons): two multiply-xorshift rounds over a Weyl sequence of the row number.
_MACROS = (
    "CREATE OR REPLACE TEMP MACRO pe_mix(h) AS (xor(h, h >> 16) * 73244475) % 4294967296",
    "CREATE OR REPLACE TEMP MACRO pe_fin(h) AS xor(h, h >> 16) / 4294967296.0",
    "CREATE OR REPLACE TEMP MACRO pe_u(i, salt) AS "
    "pe_fin(pe_mix(pe_mix((i * 2654435761 + salt * 2246822519) % 4294967296)))",
    # the first choice whose cumulative share exceeds u
    "CREATE OR REPLACE TEMP MACRO pe_pick(u, choices, cumulative) AS "
    "choices[list_position(list_transform(cumulative, lambda w: w > u), true)]",
    "CREATE OR REPLACE TEMP MACRO pe_ago(ref, days) AS ref - to_microseconds(CAST(days * 86400e6 AS BIGINT))",
)

# Choices and their cumulative shares: 55% of people are on the free tier, 35% of roles are engineers.
_TIERS = "['free', 'trial', 'pro', 'enterprise'], [0.55, 0.75, 0.95, 1.0]"
_SIZES = "['1-10', '11-50', '51-200', '201-1000', '1000+'], [0.4, 0.7, 0.85, 0.95, 1.0]"
_ROLES = "['engineer', 'designer', 'product', 'founder', 'other'], [0.35, 0.5, 0.7, 0.85, 1.0]"
_COUNTRIES = (
    "['US', 'GB', 'DE', 'IN', 'JP', 'FR', 'BR', 'CA', 'NL', 'ES'], "
    "[0.35, 0.45, 0.55, 0.65, 0.73, 0.8, 0.86, 0.92, 0.96, 1.0]"
)
# A few heavy inviters make the teammates_invited tail long.
_TEAM_TAIL = "CASE WHEN {} < 0.03 THEN 8 ELSE 1.2 END"


def _sample_sql(rows: int, reference: datetime, seed: int) -> str:
    ref = f"TIMESTAMPTZ '{reference.astimezone(timezone.utc).isoformat(sep=' ')}'"
    s = seed * 100

    def u(column: int) -> str:
        return f"pe_u(i, {s + column})"

    def nullable(column: int, share: float, value: str) -> str:
        return f"CASE WHEN pe_u(i, {s + 50 + column}) < {share} THEN NULL ELSE {value} END"

    return f"""
SELECT
  i + 1 AS id,
  {nullable(1, 0.002, "'u' || lpad(CAST(i + 1 AS VARCHAR), 9, '0')")} AS user_id,
  {nullable(2, 0.03, "'user' || CAST(i + 1 AS VARCHAR) || '@example.com'")} AS email,
  tier AS plan_tier,
  signup_at,
  CASE WHEN tier = 'trial' THEN signup_at + INTERVAL 14 DAY END AS trial_ends_at,
  {nullable(3, 0.02, f"greatest(signup_at, pe_ago({ref}, pow({u(5)}, 3) * 90))")} AS last_active_at,
  {nullable(4, 0.01, f"CAST(least(floor(pow({u(6)}, 0.7) * 6), 5) AS BIGINT)")}
    AS onboarding_steps_completed,
  {nullable(5, 0.05, f"CAST(floor(-ln(1 - {u(7)}) * 2) AS BIGINT)")} AS projects_created,
  {nullable(6, 0.10, f"CAST(floor(-ln(1 - {u(8)}) * {_TEAM_TAIL.format(u(9))}) AS BIGINT)")}
    AS teammates_invited,
  {nullable(7, 0.30, f"CAST(floor(pow({u(10)}, 2) * 4) AS BIGINT)")} AS integrations_connected,
  {nullable(8, 0.15, f"round(100 * pow({u(11)}, 0.8), 1)")} AS feature_adoption_score,
  {nullable(9, 0.25, f"pe_pick({u(12)}, {_SIZES})")}
    AS company_size,
  {nullable(10, 0.20, f"pe_pick({u(13)}, {_ROLES})")}
    AS role,
  {nullable(11, 0.05, f"pe_pick({u(14)}, {_COUNTRIES})")}
    AS country,
  {nullable(12, 0.05, f"{u(15)} < 0.6")} AS email_opt_in,
  {nullable(13, 0.02, f"{u(16)} < 0.08")} AS email_unsubscribed,
  {nullable(14, 0.10, f"{u(17)} < 0.55")} AS personalization_consent,
  {nullable(15, 0.01, f"{u(18)} < 0.05")} AS in_app_messaging_disabled
FROM (
  SELECT
    i,
    tier,
    CASE WHEN tier = 'trial' THEN pe_ago({ref}, {u(4)} * 20) ELSE pe_ago({ref}, pow({u(4)}, 2) * 730) END
      AS signup_at
  FROM (
    SELECT i, {nullable(0, 0.005, f"pe_pick({u(3)}, {_TIERS})")} AS tier
    FROM range({rows}) AS r(i)
  )
)
"""


def _check(out: Path, rows: int, reference: datetime, seed: int) -> None:
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_ROWS:
        raise InputError(
            f"{rows!r} is not a row count; use a whole number from 1 to {MAX_ROWS}", field="rows"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 1_000_000:
        raise InputError(f"{seed!r} is not a seed; use a whole number from 0 to 1000000", field="seed")
    if reference.tzinfo is None:
        raise InputError(f"{reference.isoformat()!r} has no time zone; add Z or +00:00", field="now")
    if out.suffix.lower() not in SAMPLE_FORMATS:
        raise InputError(f"{str(out)!r} must end in {' or '.join(SAMPLE_FORMATS)}", field="out")
    if out.is_dir():
        raise InputError(f"{str(out)!r} is a folder; name the file to write", field="out")
    existing = next((p for p in (out.parent, *out.parent.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(f"{str(existing)!r} is a file, so {str(out)!r} cannot be written", field="out")


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and any missing parents; return the ones created, deepest first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create folder {str(folder)!r}: {exc.strerror}", field="out") from None
    return missing


def write_sample_data(
    out: Path,
    rows: int,
    *,
    reference: datetime,
    seed: int = 0,
    progress: Progress = no_progress,
) -> Path:
    """Write `rows` synthetic records to a .parquet or .csv file; the same arguments give the same data.

    Missing folders on the way to `out` are created (and removed again if the write fails). Progress
    goes to `progress` as (percent done, 100, message).
    """
    import duckdb

    _check(out, rows, reference, seed)
    created = _make_folders(out.parent)
    options = (
        "FORMAT parquet, COMPRESSION zstd" if out.suffix.lower() == ".parquet" else "FORMAT csv, HEADER true"
    )
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    target = "'" + str(partial).replace("'", "''") + "'"
    con = duckdb.connect()
    written = False
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar_print = false")
        con.execute("SET enable_progress_bar = true")
        for macro in _MACROS:
            con.execute(macro)
        progress(0, 100, f"writing {rows} rows to {out.name}")
        run_with_progress(
            con,
            f"COPY ({_sample_sql(rows, reference, seed)}) TO {target} ({options})",
            lambda percent: progress(min(percent, 99.0), 100, f"writing {rows} rows to {out.name}"),
        )
        partial.replace(out)
        written = True
    except duckdb.Error as exc:
        raise InputError(f"could not write {str(out)!r}: {str(exc).splitlines()[0]}", field="out") from None
    finally:
        con.close()
        partial.unlink(missing_ok=True)
        if not written:
            for folder in created:
                with contextlib.suppress(OSError):  # someone else put a file there meanwhile
                    folder.rmdir()
    progress(100, 100, f"wrote {rows} rows to {out.name}")
    return out

"""A sizing result a warehouse computed, read back from the file its UI or CLI downloaded.

The file is CSV with a header (Snowflake, BigQuery and Databricks downloads; Snowflake upper-cases
column names, so names are compared in lower case) or JSON: an object, an array of one object
(`bq --format=json`) or JSON lines. It holds one row: the constants warehouse_sql selects (plan id,
revision, rules hash, evaluation time, table) and every count of the sizing query. Counts may come
quoted (BigQuery) but must be whole; the counts must also agree with each other (a profile's net and
removed add up to its eligible, nothing exceeds the row count, ...), which catches an edited count.
Which revision the row belongs to is the core's question (core/import_op.py): it needs git history.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model import Plan
from ..model.plan import SizingRun, SizingSource
from ..paths import confined_path
from .backends import Measurement
from .figures import sizing_run
from .measure import RESULT_HEADER_COLUMNS
from .query import SizingQuery, build_sizing_query
from .rules_hash import evaluation_text
from .sizing_checks import contradictions

FIELD = "import_result"
MAX_BYTES = 64 * 1024 * 1024  # a row of 2,000 profiles' overlaps is a few MB
_NULLS = ("", "null", "NULL", "\\N")
_INSTANT = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?\s*(UTC|Z|[+-]\d{2}(?::?\d{2})?)?"
)


@dataclass(frozen=True)
class ResultRow:
    """The file's one row: what it says it belongs to, and its outputs by lower-case name."""

    location: str  # workspace-relative path
    plan_id: str
    revision: int
    rules_sha256: str
    evaluated_at: datetime
    table: str | None
    values: dict[str, Any]


def _refuse(message: str) -> InputError:
    return InputError(f"{message}; nothing was written", field=FIELD)


def _read_text(root: Path, given: str) -> tuple[str, str]:
    path = confined_path(root, given, field=FIELD)
    if not path.is_file():
        raise _refuse(f"{given!r} is not a file in the workspace")
    if path.stat().st_size > MAX_BYTES:
        raise _refuse(f"{given!r} is larger than {MAX_BYTES >> 20} MB; a sizing result is one row")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(f"{given!r} is not UTF-8 text; save the result as CSV or JSON") from None
    return path.relative_to(root.resolve()).as_posix(), text


def _csv_rows(text: str, where: str) -> list[dict[str, Any]]:
    try:
        lines = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise _refuse(f"{where} is not readable CSV: {exc}") from None
    if not lines:
        raise _refuse(f"{where} is empty; save the query's result row with its header")
    header = [name.strip().lower() for name in lines[0]]
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if len(cells) != len(header):
            raise _refuse(f"line {number} of {where} has {len(cells)} values for {len(header)} columns")
        rows.append(dict(zip(header, cells, strict=True)))
    return _unique_names(header, where, rows)


def _unique_names(names: list[str], where: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise _refuse(f"{where} has column {name} twice (names are compared in lower case)")
        seen.add(name)
    return rows


def _json_rows(text: str, where: str) -> list[dict[str, Any]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        try:  # JSON lines: one object per line
            document = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise _refuse(f"{where} is not readable JSON: {exc.msg} at line {exc.lineno}") from None
    items = document if isinstance(document, list) else [document]
    rows = []
    for item in items:
        if not isinstance(item, dict):
            raise _refuse(f"{where} must hold a JSON object of column: value (or an array of one)")
        names = [str(key).strip().lower() for key in item]
        _unique_names(names, where, [])
        rows.append(dict(zip(names, item.values(), strict=True)))
    return rows


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list, bool)):
        raise ValueError("holds a nested value or a boolean, not a number, text or time")
    text = str(value).strip()
    return None if text in _NULLS else text


def _column(row: dict[str, Any], name: str, where: str) -> str:
    if name not in row:
        raise _refuse(
            f"{where} has no column {name}; save the whole row that the SQL of plans size --dialect returns"
        )
    try:
        text = _text(row[name])
    except ValueError as exc:
        raise _refuse(f"column {name} of {where} {exc}") from None
    if text is None:
        raise _refuse(f"column {name} of {where} is empty")
    return text


def parse_time(text: str) -> datetime:
    """A warehouse's rendering of an instant: 'YYYY-MM-DD[ T]HH:MM[:SS[.fff]][ UTC|Z|+hh[:mm]]' or
    epoch seconds. A time without a zone is UTC, as the sizing session's time zone is."""
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?([eE][+-]?\d+)?", text):
            return datetime.fromtimestamp(float(text), tz=timezone.utc)
        match = _INSTANT.fullmatch(text)
        if match is None:
            raise ValueError(text)
        day, clock, zone = match.groups()
        if zone in (None, "UTC", "Z"):
            zone = "+00:00"
        elif len(zone) == 3:
            zone += ":00"
        elif ":" not in zone:
            zone = f"{zone[:3]}:{zone[3:]}"
        return datetime.fromisoformat(f"{day}T{clock or '00:00'}{zone}").astimezone(timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{text[:60]!r} is not a time (use ISO 8601, e.g. 2026-11-24T09:00:00Z)") from None


def read_result(root: Path, given: str) -> ResultRow:
    """The one row of the result file `given` (a path inside the workspace)."""
    location, text = _read_text(root, given)
    stripped = text.lstrip()
    rows = _json_rows(text, location) if stripped[:1] in ("{", "[") else _csv_rows(text, location)
    if len(rows) != 1:
        raise _refuse(
            f"{location} holds {len(rows)} result rows; the sizing query returns exactly one, so save "
            "that row alone"
        )
    row = rows[0]
    plan_id, revision, sha, evaluated = (_column(row, name, location) for name in RESULT_HEADER_COLUMNS[:4])
    try:
        evaluated_at = parse_time(evaluated)
    except ValueError as exc:
        raise _refuse(f"column pe_evaluated_at of {location}: {exc}") from None
    if not revision.isdigit():
        raise _refuse(f"column pe_revision of {location} is {revision!r}, not a revision number")
    if not re.fullmatch(r"[0-9a-fA-F]{64}", sha):
        raise _refuse(f"column pe_rules_sha256 of {location} is {sha[:80]!r}, not a sha256 in hex")
    try:
        table = _text(row.get("pe_table"))
    except ValueError:
        table = None
    return ResultRow(
        location=location,
        plan_id=plan_id,
        revision=int(revision),
        rules_sha256=sha.lower(),
        evaluated_at=evaluated_at,
        table=table[:200] if table else None,
        values={k: v for k, v in row.items() if k not in RESULT_HEADER_COLUMNS},
    )


def _count(name: str, raw: Any, where: str) -> int:
    try:
        text = _text(raw)
    except ValueError as exc:
        raise _refuse(f"column {name} of {where} {exc}") from None
    if text is None:
        raise _refuse(f"column {name} of {where} is empty; it is a count")
    try:
        number = float(text) if not re.fullmatch(r"[+-]?\d+", text) else int(text)
    except ValueError:
        raise _refuse(f"column {name} of {where} is {text[:40]!r}, not a count") from None
    if number != number or number in (float("inf"), float("-inf")) or number != int(number) or number < 0:
        raise _refuse(f"column {name} of {where} is {text[:40]!r}; a count is a whole number, 0 or more")
    return int(number)


def _values(query: SizingQuery, row: ResultRow) -> dict[str, Any]:
    """The row's outputs as the figures read them: counts as int, newest values as UTC instants."""
    expected = list(query.outputs)
    missing = [name for name in expected if name not in row.values]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise _refuse(f"{row.location} has no column {shown}, which the sizing query of these rules returns")
    extra = sorted(set(row.values) - set(expected))
    if extra:
        named = ", ".join(extra[:5])
        raise _refuse(f"column {named} of {row.location} is not an output of the sizing query of these rules")
    values: dict[str, Any] = {}
    for name in expected:
        if name.startswith("newest_"):
            text = _text(row.values[name])
            try:
                values[name] = None if text is None else parse_time(text)
            except ValueError as exc:
                raise _refuse(f"column {name} of {row.location}: {exc}") from None
        else:
            values[name] = _count(name, row.values[name], row.location)
    return values


def imported_run(plan: Plan, row: ResultRow, *, run_id: str, actor: str) -> SizingRun:
    """The SizingRun of `row`, read with the sizing query of `plan` (the revision it belongs to)."""
    if not plan.profiles:
        raise _refuse(f"revision {plan.revision} of {plan.plan_id} has no profiles to size")
    # The outputs and how to read them are the same in every dialect; the SQL text is not used.
    query = build_sizing_query(plan, "duckdb", "pe_result", columns=None, now=row.evaluated_at)
    values = _values(query, row)
    problems = contradictions(query, values)
    if problems:
        shown = "; ".join(problems[:3])
        raise _refuse(f"the counts in {row.location} contradict each other ({shown}); was the file edited?")
    if not values["row_count"]:
        where = row.table or "the table"
        raise _refuse(f"{row.location} counts no rows in {where}; there is nothing to store")
    run = sizing_run(
        plan,
        Measurement(query, {}, values),
        run_id=run_id,
        at=row.evaluated_at,
        actor=actor,
        evaluated_at=row.evaluated_at,
        source=SizingSource(kind="warehouse", location=row.location, table=row.table),
    )
    return run.model_copy(update={"imported": True, "rules_sha256": row.rules_sha256})


__all__ = ["ResultRow", "evaluation_text", "imported_run", "parse_time", "read_result"]

"""Sample records: loading them from the workspace and coercing values to the inventory's types.

After coercion a record holds Python values the evaluators compare directly: str, bool, None, 64-bit
int for integer attributes, float for number attributes, and whole epoch microseconds (int) for
timestamp and date attributes.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
from collections.abc import Collection, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..errors import InputError
from ..paths import confined_path
from .instants import MICROS, epoch_us, fast_iso_us, from_epoch_us, is_date_only, parse_instant

MAX_RECORD_FILE_BYTES = 200 * 1024 * 1024
# Only these spellings (any case): "yes", "t" or "y" would be guesses that SQL dialects make differently.
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def load_records(path: str, workspace_root: Path) -> list[dict[str, Any]]:
    """Records from a CSV (header row; empty cells are null) or JSON (a list of objects) workspace file."""
    resolved = confined_path(workspace_root, path, field="records")
    if not resolved.is_file():
        raise InputError(f"{path!r} is not a file in the workspace", field="records")
    if resolved.stat().st_size > MAX_RECORD_FILE_BYTES:
        raise InputError(f"{path!r} is larger than {MAX_RECORD_FILE_BYTES} bytes", field="records")
    suffix = resolved.suffix.lower()
    text = resolved.read_text(encoding="utf-8-sig")
    if suffix == ".csv":
        return _csv_records(text, path)
    if suffix in (".json", ".jsonl", ".ndjson"):
        return _json_records(text, path, lines=suffix != ".json")
    raise InputError(f"{path!r} must be a .csv or .json file", field="records")


def _csv_records(text: str, path: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InputError(f"{path!r} has no header row; the first row names the attributes", field="records")
    records = []
    for row in reader:
        if None in row:
            raise InputError(
                f"{path!r} line {reader.line_num} has more cells than the header", field="records"
            )
        records.append({key: (None if value == "" else value) for key, value in row.items()})
    return records


def _json_records(text: str, path: str, *, lines: bool) -> list[dict[str, Any]]:
    try:
        data = [json.loads(line) for line in text.splitlines() if line.strip()] if lines else json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path!r} is not valid JSON: {exc}", field="records") from None
    if isinstance(data, dict):
        data = [data]
    check_records(data, f"{path!r}")
    return data


def check_records(data: Any, where: str = "records") -> None:
    if not isinstance(data, (list, tuple)) or not all(isinstance(item, dict) for item in data):
        raise InputError(f"{where} must be a list of JSON objects (one per record)", field="records")
    for index, record in enumerate(data):
        for name, value in record.items():
            # A lone surrogate cannot be encoded in any answer (JSON text is UTF-8), so it is
            # refused here, naming where it is, instead of failing when the result is sent.
            if any(isinstance(text, str) and _has_surrogate(text) for text in (name, value)):
                raise InputError(
                    f"{where}/{index}/{ascii(name)[1:-1]}: contains a lone surrogate; send valid "
                    "Unicode text",
                    field="records",
                )


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_ALLOWED = {
    "timestamp": "an ISO 8601 date-time (at most 6 fractional digits; no zone means UTC), a date, or "
    "epoch seconds (at most 6 decimals), in the years 1 to 9999",
    "date": "a date YYYY-MM-DD",
    "integer": f"a whole number from {INT64_MIN} to {INT64_MAX}",
    "number": "a finite number (compared as a double)",
    "boolean": "true, false, 1 or 0",
    "string": "a string",
}


def coerce_value(value: Any, kind: str | None, *, index: int, attr: str) -> Any:
    """The comparable form of a record value for an attribute of type `kind`: timestamps and dates
    become whole epoch microseconds, numbers doubles, integers 64-bit ints (see docs/rules.md)."""
    if value is None:
        return None
    try:
        if kind == "timestamp":
            return _timestamp_us(value)
        if kind == "date":
            return _date_us(value)
        if kind == "integer":
            return _to_integer(value)
        if kind == "number":
            return _to_number(value)
        if kind == "boolean":
            return _to_boolean(value)
        if kind == "string":
            return _to_string(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(
            f"record {index}: {attr} = {_shown(value)} is not a valid {kind}; a {kind} is {_ALLOWED[kind]}",
            field=f"records/{index}/{attr}",
        ) from None
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _timestamp_us(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, (int, float)):
        return _epoch_seconds_us(value)
    if isinstance(value, (datetime, date)):
        return epoch_us(value)
    if isinstance(value, str):
        parsed = parse_instant(value.strip())
        if parsed is None:
            raise ValueError
        return epoch_us(parsed)
    raise TypeError


def _epoch_seconds_us(value: int | float) -> int:
    """Epoch seconds as microseconds: the float's decimal form, so 1.5 is 1,500,000 us; finer digits
    are refused, not rounded, and so is an instant outside the years 1 to 9999."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError
    micros = Decimal(repr(value)) * MICROS if isinstance(value, float) else Decimal(value) * MICROS
    if micros != micros.to_integral_value() or from_epoch_us(int(micros)) is None:
        raise ValueError
    return int(micros)


def _date_us(value: Any) -> int:
    """A calendar date only: a date-time's time of day would be kept by some targets and truncated by
    a DATE column in others, and its zone would move it across midnight."""
    if isinstance(value, datetime) or not isinstance(value, (date, str)):
        raise TypeError
    if isinstance(value, str):
        text = value.strip()
        if not is_date_only(text):
            raise ValueError
        value = date.fromisoformat(text)
    return epoch_us(value)


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        value = int(value)
    elif isinstance(value, str):
        value = int(value.strip())
    elif not isinstance(value, int):
        raise TypeError
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError
    return value


def _to_number(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, str):
        value = value.strip()
    elif not isinstance(value, (int, float)):
        raise TypeError
    number = float(value)
    if not math.isfinite(number):
        raise ValueError
    return number


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError


def coerce_records(
    records: Sequence[dict[str, Any]], attribute_types: dict[str, str | None], needed: set[str]
) -> dict[str, list[Any]]:
    """Columns of comparable values for the attributes the rules read; a missing key is null."""
    columns: dict[str, list[Any]] = {}
    for attr in sorted(needed):
        kind = attribute_types.get(attr)
        raw = [record.get(attr) for record in records]
        fast = _fast_column(raw, kind)
        if fast is not None:
            columns[attr] = fast
        else:
            columns[attr] = [coerce_value(v, kind, index=i, attr=attr) for i, v in enumerate(raw)]
    return columns


_ALREADY_TYPED = {"string": (str,), "boolean": (bool,)}


def _fast_column(raw: list[Any], kind: str | None) -> list[Any] | None:
    """The column without per-value calls when every value already has its final form; else None."""
    if kind is None:
        return raw
    if kind in ("timestamp", "date") and all(v is None or type(v) is str for v in raw):
        convert = fast_iso_us if kind == "timestamp" else _date_us
        try:
            return [None if v is None else convert(v) for v in raw]
        except ValueError:
            return None  # the slow path names the bad record
    if kind == "number" and all(v is None or type(v) is float for v in raw):
        if all(v is None or math.isfinite(v) for v in raw):
            return raw
        return None
    if kind == "integer" and all(v is None or type(v) is int for v in raw):
        if all(v is None or INT64_MIN <= v <= INT64_MAX for v in raw):
            return raw
        return None
    types = _ALREADY_TYPED.get(kind)
    if types is not None and all(v is None or (type(v) in types) for v in raw):
        return raw
    return None


class ColumnWarning(BaseModel):
    """A record column that does not match the attribute inventory, usually a misspelt header."""

    code: Literal["records.unknown_column", "records.missing_attribute"]
    column: str = Field(description="The record column, or the attribute missing from every record.")
    suggestion: str | None = Field(None, description="The closest name on the other side, if any.")
    message: str


_MAX_COLUMN_WARNINGS = 50


def column_warnings(
    records: Sequence[dict[str, Any]], inventory: Collection[str], read: Collection[str]
) -> list[ColumnWarning]:
    """Columns that are not inventoried attributes, and attributes the rules read that no record has,
    each with a did-you-mean suggestion from the other side. `id` names the record and is ignored."""
    if not records:
        return []
    present = set().union(*records) - {"id"}
    unknown = sorted(present - set(inventory))
    missing = sorted(set(read) & set(inventory) - present)
    warnings: list[ColumnWarning] = []
    for name in missing[:_MAX_COLUMN_WARNINGS]:
        close = difflib.get_close_matches(name, unknown, n=1)
        hint = f" (did you mean the column {close[0]!r}?)" if close else ""
        warnings.append(
            ColumnWarning(
                code="records.missing_attribute",
                column=name,
                suggestion=close[0] if close else None,
                message=f"no record has the attribute {name!r}, which the profiles read, so it is null in "
                f"every record{hint}",
            )
        )
    for name in unknown[:_MAX_COLUMN_WARNINGS]:
        close = difflib.get_close_matches(name, [n for n in inventory if n not in present], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        warnings.append(
            ColumnWarning(
                code="records.unknown_column",
                column=name,
                suggestion=close[0] if close else None,
                message=f"the column {name!r} is not an inventoried attribute, so no rule reads it{hint}",
            )
        )
    return warnings

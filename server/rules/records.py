"""Sample records: loading them from the workspace and coercing values to the inventory's types.

After coercion a record holds Python values the evaluators compare directly: str, int, float, bool,
None, and epoch seconds (float) for timestamp and date attributes.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InputError
from .program import epoch

MAX_RECORD_FILE_BYTES = 200 * 1024 * 1024
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def load_records(path: str, workspace_root: Path) -> list[dict[str, Any]]:
    """Records from a CSV (header row; empty cells are null) or JSON (a list of objects) workspace file."""
    root = workspace_root.resolve()
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = candidate.resolve()
    try:
        resolved.relative_to(root)
    except ValueError:
        raise InputError(
            f"{path!r} is outside the workspace {str(root)!r} (symlinks that lead out count as outside); "
            "records are only read from inside it",
            field="records",
        ) from None
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
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InputError(f"{where} must be a list of JSON objects (one per record)", field="records")


def coerce_value(value: Any, kind: str | None, *, index: int, attr: str) -> Any:
    """The comparable form of a record value for an attribute of type `kind`."""
    if value is None:
        return None
    try:
        if kind in ("timestamp", "date"):
            return _to_epoch(value)
        if kind == "integer":
            return _to_integer(value)
        if kind == "number":
            return _to_number(value)
        if kind == "boolean":
            return _to_boolean(value)
        if kind == "string":
            return _to_string(value)
    except (TypeError, ValueError):
        raise InputError(
            f"record {index}: {attr} = {value!r} is not a valid {kind}", field=f"records/{index}/{attr}"
        ) from None
    return value


def _to_epoch(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError
        return float(value)  # already epoch seconds (the form JSON Logic data uses)
    if isinstance(value, (datetime, date)):
        return epoch(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            return epoch(date.fromisoformat(text))
        return epoch(datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1)))
    raise TypeError


def _to_integer(value: Any) -> int | float:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return _to_number(text)
    raise TypeError


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError
        return value
    if isinstance(value, str):
        number = float(value.strip())
        if not math.isfinite(number):
            raise ValueError
        return number
    raise TypeError


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
    records: list[dict[str, Any]], attribute_types: dict[str, str | None], needed: set[str]
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


_ALREADY_TYPED = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}


def _fast_column(raw: list[Any], kind: str | None) -> list[Any] | None:
    """The column without per-value calls when every value already has the right type; else None."""
    if kind is None:
        return raw
    if kind in ("timestamp", "date"):
        if all(v is None or type(v) is str for v in raw):
            try:
                return [None if v is None else _iso_epoch(v) for v in raw]
            except ValueError:
                return None  # the slow path names the bad record
        return None
    types = _ALREADY_TYPED[kind]
    if all(v is None or (type(v) in types) for v in raw):
        return raw
    return None


def _iso_epoch(text: str) -> float:
    moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()

"""Whether a column's database type can hold an attribute of the inventory's type.

Types are compared by family (text, number, boolean, time): an integer attribute in a DOUBLE column
is fine, a boolean attribute in a VARCHAR column contradicts the inventory.
"""

from __future__ import annotations

Family = str
ATTRIBUTE_FAMILY: dict[str, Family] = {
    "string": "text",
    "integer": "number",
    "number": "number",
    "boolean": "boolean",
    "timestamp": "time",
    "date": "time",
}
_PREFIXES: tuple[tuple[str, Family], ...] = (
    ("character", "text"),
    ("varchar", "text"),
    ("text", "text"),
    ("char", "text"),
    ("bpchar", "text"),
    ("string", "text"),
    ("uuid", "text"),
    ("enum", "text"),
    ("user-defined", "text"),
    ("citext", "text"),
    ("name", "text"),
    ("tinyint", "number"),
    ("smallint", "number"),
    ("integer", "number"),
    ("int", "number"),
    ("bigint", "number"),
    ("hugeint", "number"),
    ("uhugeint", "number"),
    ("utinyint", "number"),
    ("usmallint", "number"),
    ("uinteger", "number"),
    ("ubigint", "number"),
    ("decimal", "number"),
    ("numeric", "number"),
    ("double", "number"),
    ("float", "number"),
    ("real", "number"),
    ("boolean", "boolean"),
    ("bool", "boolean"),
    ("timestamp", "time"),
    ("date", "time"),
)


def column_family(db_type: str) -> Family | None:
    """The family of a DuckDB or PostgreSQL type name; None for types no attribute can use (BLOB, LIST)."""
    text = db_type.strip().lower()
    if text.endswith("[]") or text.startswith(("struct", "map", "list", "union", "interval", "time ")):
        return None
    for prefix, family in _PREFIXES:
        if text.startswith(prefix):
            return family
    return None


def type_contradictions(attributes: dict[str, str | None], columns: dict[str, str]) -> list[str]:
    """One sentence per column whose type contradicts the inventory, naming both types."""
    problems = []
    for name, kind in attributes.items():
        if kind is None or name not in columns:
            continue
        family = column_family(columns[name])
        if family != ATTRIBUTE_FAMILY[kind]:
            problems.append(f"column {name} is {columns[name]} but the inventory types {name} as {kind}")
    return problems

"""Table names as each SQL dialect spells them, parsed by sqlglot rather than matched by a pattern.

Snowflake and Databricks take catalog.schema.table, BigQuery project.dataset.table (a project may
hold hyphens, any part may be backquoted); PostgreSQL and DuckDB take schema.table. A name is only
ever a name: an alias, a function call, a comment or a second statement is refused.
"""

from __future__ import annotations

from sqlglot import exp, parse_one
from sqlglot.errors import SqlglotError

from ..errors import InputError

MAX_PARTS = {"duckdb": 2, "postgres": 2, "snowflake": 3, "bigquery": 3, "databricks": 3}
EXAMPLES = {
    "duckdb": "main.users",
    "postgres": "public.users",
    "snowflake": "analytics.public.users",
    "bigquery": "my-project.dataset.users",
    "databricks": "main.analytics.users",
}
MAX_NAME_LENGTH = 400
_PART_KEYS = ("this", "db", "catalog")


def _refuse(name: str, dialect: str) -> ValueError:
    parts = MAX_PARTS[dialect]
    shape = "catalog.schema.table" if parts == 3 else "schema.table"
    return ValueError(
        f"{name!r} is not a {dialect} table name; use table or {shape} (e.g. {EXAMPLES[dialect]}), "
        f"quoting a part the way {dialect} quotes names"
    )


def parse_table(name: str, dialect: str) -> exp.Table:
    """The parsed name, or ValueError saying what a name looks like in `dialect`."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH or "\x00" in name:
        raise _refuse(str(name)[:MAX_NAME_LENGTH], dialect)
    try:
        table = parse_one(name, into=exp.Table, read=dialect)
    except SqlglotError:
        raise _refuse(name, dialect) from None
    parts = [table.args.get(key) for key in _PART_KEYS]
    extras = [key for key, value in table.args.items() if key not in _PART_KEYS and value]
    if (
        not isinstance(table, exp.Table)
        or not isinstance(parts[0], exp.Identifier)
        or any(p is not None and not isinstance(p, exp.Identifier) for p in parts[1:])
        or extras
        or any(node.comments for node in table.walk())
        or len(table.parts) > MAX_PARTS[dialect]
        or any(not part.name for part in table.parts)
    ):
        raise _refuse(name, dialect)
    return table


def qualified_table(name: str, dialect: str) -> str:
    """The name as `dialect` SQL, ready to follow FROM; InputError on the field `table` otherwise."""

    try:
        return parse_table(name, dialect).sql(dialect=dialect)
    except ValueError as exc:
        raise InputError(str(exc), field="table") from None


def table_parts(name: str, dialect: str) -> list[str]:
    """The unquoted parts of a name that qualified_table accepted: ['public', 'users']."""
    return [part.name for part in parse_table(name, dialect).parts]


def string_literal(text: str, dialect: str) -> str:
    """`text` as a string constant of `dialect`: BigQuery and Spark escape a quote with a backslash,
    the others double it, so the quoting is sqlglot's, not ours."""
    return exp.Literal.string(text).sql(dialect=dialect)

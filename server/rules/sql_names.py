"""Names in compiled SQL: every identifier quoted, with each dialect's quoting and case rules.

A name means what the same name would mean unquoted in the dialect (PostgreSQL folds it to lower
case, Snowflake to upper case, the others keep it), and it is always quoted, so that no reserved word
(`order`, `values`, `rlike`) or built-in (`current_schema`, `user`) can capture it. Names the compiler
generates for its own subqueries start with `_pe_`; attribute names start with a letter, so the two
can never collide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlglot import exp

from ..errors import InputError

GENERATED_PREFIX = "_pe_"
_TABLE_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,127}$")
# BigQuery project ids may contain '-' (my-project.dataset.table).
_BIGQUERY_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
_ID_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def fold(name: str, dialect: str) -> str:
    """The name an unquoted identifier becomes in the dialect."""
    if dialect == "snowflake":
        return name.upper()
    if dialect == "postgres":
        return name.lower()
    return name


def identifier(name: str, dialect: str) -> exp.Identifier:
    return exp.to_identifier(fold(name, dialect), quoted=True)


def column(name: str, dialect: str) -> exp.Column:
    return exp.Column(this=identifier(name, dialect))


def generated(name: str, dialect: str) -> exp.Identifier:
    """One of the compiler's own names (subquery aliases, intermediate columns)."""
    return identifier(GENERATED_PREFIX + name, dialect)


def table_expression(name: str, dialect: str) -> exp.Table:
    """A table name of one to three dot-separated parts (catalog.schema.table), each quoted."""
    parts = name.split(".")
    pattern = _BIGQUERY_PART if dialect == "bigquery" else _TABLE_PART
    if not 1 <= len(parts) <= 3 or not all(pattern.match(part) for part in parts):
        hyphen = ", '-' in a BigQuery project" if dialect == "bigquery" else ""
        raise InputError(
            f"{name!r} is not a table name: use one to three parts separated by '.' (catalog.schema.table), "
            f"each a letter or '_' followed by letters, digits, '_'{hyphen}",
            field="table",
        )
    quoted = [identifier(part, dialect) for part in parts]
    catalog, db, table = [None] * (3 - len(quoted)) + quoted
    return exp.Table(this=table, db=db, catalog=catalog)


def check_id_column(name: str, dialect: str, outputs: Iterable[str]) -> None:
    if not _ID_COLUMN.match(name) or name.startswith(GENERATED_PREFIX):
        raise InputError(
            f"{name!r} is not a column name for the record id: use a letter or '_' followed by letters, "
            f"digits or '_' (names starting with {GENERATED_PREFIX!r} are the compiler's own)",
            field="id_column",
        )
    taken = {fold(output, dialect) for output in outputs}
    if fold(name, dialect) in taken:
        raise InputError(
            f"id column {name!r} has the name of an output column ({', '.join(sorted(taken))}); the "
            "output would have two columns of that name: name the id column differently",
            field="id_column",
        )


def unique_output_names(profile_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Profile id -> (member column, score column). Ids become SQL-safe ('-' -> '_'); when two ids
    give the same name, the later one gets its position appended, until every name is distinct."""
    names: dict[str, tuple[str, str]] = {}
    used: set[str] = {"winner"}
    wanted = [profile_id.replace("-", "_") for profile_id in profile_ids]
    reserved = set(wanted)
    for index, (profile_id, safe) in enumerate(zip(profile_ids, wanted, strict=True)):
        candidate = safe
        suffix = index
        while f"member_{candidate}" in used or (candidate != safe and candidate in reserved):
            candidate = f"{safe}_{suffix}"
            suffix += 1
        used.update((f"member_{candidate}", f"score_{candidate}"))
        names[profile_id] = (f"member_{candidate}", f"score_{candidate}")
    return names

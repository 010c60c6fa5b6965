"""Deterministic holdout assignment: a record lands on the same side in Python and in every SQL dialect.

A record's bucket is md5 over `salt + U+001F + profile_id + U+001F + canonical id` (UTF-8), read as the
integer of the digest's first 15 hex digits (60 bits: it fits a signed BIGINT in every dialect). The
record is held out when bucket / 16**15 < share, which is computed as the integer comparison
bucket < ceil(share * 16**15): multiplying a float by a power of two is exact, so the two agree for
every share, and no dialect's floating point enters the verdict.

The canonical id (see docs/audience.md, "Holdout assignment") is text that does not depend on the
column type, so the id 42 hashes the same whether it arrives as a string, an integer or a whole float:
- a string is itself (no trimming, no Unicode normalisation: ids are opaque);
- an integer is its decimal form (`-12`, no leading zeros);
- a boolean is `true` or `false`;
- a float is the decimal form of the integer it equals, when it is whole and below 2**53 in
  magnitude (where doubles are exact); other floats (fractions, NaN, infinities) have no canonical form,
  because the dialects print them differently;
- NULL, and a float without a canonical form, is never held out: an unknown id cannot be joined to
  its outcomes, so holding it out would deny the experience and measure nothing.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from typing import Literal

from ..errors import InputError
from ..model import Plan
from ..model.targets import SQL_DIALECTS

IdKind = Literal["string", "integer", "number", "boolean"]
ID_KINDS: tuple[str, ...] = ("string", "integer", "number", "boolean")
MAX_SHARE = 0.5
HEX_DIGITS = 15
SCALE = 16**HEX_DIGITS
SEPARATOR = "\x1f"
# Doubles hold every integer below 2**53 exactly; beyond it a float id may already be a rounded one.
EXACT_FLOAT = 2**53

_TEXT_TYPE = {"duckdb": "VARCHAR", "postgres": "TEXT", "snowflake": "VARCHAR", "bigquery": "STRING"}
_INT_TYPE = {"bigquery": "INT64"}
# sqlglot transpiles the hex step to CAST('0x..' AS BIGINT), which PostgreSQL and ANSI Spark refuse,
# so each dialect gets its own spelling of "the first 15 hex digits of md5, as an integer".
_BUCKET = {
    "duckdb": "CAST('0x' || SUBSTR(MD5({text}), 1, 15) AS BIGINT)",
    "postgres": "('x' || LPAD(SUBSTR(MD5({text}), 1, 15), 16, '0'))::BIT(64)::BIGINT",
    # UPPER: Snowflake documents the X element with upper-case digits and MD5 prints lower case;
    # upper-casing costs nothing and does not rely on case-insensitive parsing.
    "snowflake": "TO_NUMBER(UPPER(SUBSTR(MD5({text}), 1, 15)), 'XXXXXXXXXXXXXXX')",
    "bigquery": "CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5({text})), 1, 15)) AS INT64)",
    "databricks": "CAST(CONV(SUBSTR(MD5({text}), 1, 15), 16, 10) AS BIGINT)",
}
# The separator is spelled as a function, not a raw control character, so printed SQL shows it.
_SEPARATOR_SQL = {"bigquery": "CODE_POINTS_TO_STRING([31])"}


def check_share(share: object) -> float:
    """The share as a float, or an error naming it: at most half, so the treatment stays the majority."""
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= MAX_SHARE:
        raise InputError(
            f"{share!r} is outside (0, {MAX_SHARE}]: hold out a positive share of at most half the profile",
            field="holdout_share",
        )
    return float(share)


def threshold(share: object) -> int:
    """Buckets below this are held out: bucket / 16**15 < share exactly (share * 16**15 is exact)."""
    return math.ceil(check_share(share) * SCALE)


def _check_part(value: object, field: str) -> str:
    # Printable text keeps the prefix unambiguous (no separator inside) and a plain SQL literal.
    if not isinstance(value, str) or not value.isprintable():
        raise InputError(f"{value!r} must be printable text (no control characters)", field=field)
    return value


def canonical_id(record_id: object) -> str | None:
    """The id's text form, the same as the SQL's; None when it has none (then it is never held out)."""
    if record_id is None or isinstance(record_id, str):
        return record_id
    if isinstance(record_id, bool):  # before int: bool is a subclass of int
        return "true" if record_id else "false"
    if isinstance(record_id, int):
        return str(record_id)
    if isinstance(record_id, float):
        whole = abs(record_id) < EXACT_FLOAT and record_id.is_integer()
        return str(int(record_id)) if whole else None
    raise InputError(
        f"{record_id!r} is a {type(record_id).__name__}: a record id is a string, integer, number or boolean",
        field="id",
    )


def bucket(salt: str, profile_id: str, record_id: object) -> int | None:
    """The record's bucket in [0, 16**15), or None for an id without a canonical form."""
    prefix = _check_part(salt, "holdout_salt") + SEPARATOR + _check_part(profile_id, "profile_id") + SEPARATOR
    text = canonical_id(record_id)
    if text is None:
        return None
    try:
        data = (prefix + text).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{record_id!r} is not valid Unicode text (a lone surrogate)", field="id") from None
    return int(hashlib.md5(data, usedforsecurity=False).hexdigest()[:HEX_DIGITS], 16)


def in_holdout(salt: str, profile_id: str, record_id: object, share: float) -> bool:
    """True when the record is in the profile's holdout."""
    limit = threshold(share)
    value = bucket(salt, profile_id, record_id)
    return value is not None and value < limit


def _check_sql_args(dialect: str, id_kind: str) -> None:
    if dialect not in SQL_DIALECTS:
        raise InputError(
            f"unknown SQL dialect {dialect!r}; use one of {', '.join(SQL_DIALECTS)}", field="dialect"
        )
    if id_kind not in ID_KINDS:
        raise InputError(f"unknown id kind {id_kind!r}; use one of {', '.join(ID_KINDS)}", field="id_kind")


def _id_text_sql(dialect: str, id_sql: str, id_kind: str) -> str:
    """The canonical id in SQL; NULL exactly where canonical_id returns None."""
    text = _TEXT_TYPE.get(dialect, "STRING")
    if id_kind == "string":
        return f"({id_sql})"
    if id_kind == "integer":
        return f"CAST(({id_sql}) AS {text})"
    if id_kind == "boolean":
        return f"CASE WHEN ({id_sql}) THEN 'true' WHEN NOT ({id_sql}) THEN 'false' END"
    # Nested CASE, so FLOOR and the BIGINT cast only ever see finite values below 2**53 (ANSI Spark
    # raises on an overflowing cast, and AND does not promise to evaluate left to right).
    big = _INT_TYPE.get(dialect, "BIGINT")
    return (
        f"CASE WHEN ABS({id_sql}) < {EXACT_FLOAT} THEN CASE WHEN ({id_sql}) = FLOOR({id_sql}) "
        f"THEN CAST(CAST(({id_sql}) AS {big}) AS {text}) END END"
    )


def bucket_sql(dialect: str, salt: str, profile_id: str, id_sql: str, *, id_kind: IdKind = "string") -> str:
    """An integer SQL expression equal to `bucket()`, NULL where it is None."""
    # sqlglot only quotes the literals; imported here so that Python assignment (simulation) never
    # pays for loading it.
    from sqlglot import exp

    _check_sql_args(dialect, id_kind)
    separator = _SEPARATOR_SQL.get(dialect, "CHR(31)")
    salt_sql = exp.Literal.string(_check_part(salt, "holdout_salt")).sql(dialect=dialect)
    profile_sql = exp.Literal.string(_check_part(profile_id, "profile_id")).sql(dialect=dialect)
    id_text = _id_text_sql(dialect, id_sql, id_kind)
    text = f"{salt_sql} || {separator} || {profile_sql} || {separator} || {id_text}"
    return _BUCKET[dialect].format(text=text)


def holdout_sql(
    dialect: str, salt: str, profile_id: str, id_sql: str, share: float, *, id_kind: IdKind = "string"
) -> str:
    """A two-valued boolean SQL expression equal to `in_holdout()` for a column of the given kind."""
    limit = threshold(share)
    return f"COALESCE({bucket_sql(dialect, salt, profile_id, id_sql, id_kind=id_kind)} < {limit}, FALSE)"


DEFAULT_ID_COLUMN = "id"


def plan_salt(plan: Plan) -> str:
    """The plan's holdout salt: activation_lift.holdout_salt, or the plan id when it names none."""
    lift = plan.success_metrics.activation_lift
    return (lift.holdout_salt if lift and lift.holdout_salt else None) or plan.plan_id


def plan_id_column(plan: Plan) -> str:
    """The record id column the holdout hashes: activation_lift.id_column, or 'id'."""
    lift = plan.success_metrics.activation_lift
    return (lift.id_column if lift and lift.id_column else None) or DEFAULT_ID_COLUMN


def profile_shares(plan: Plan) -> dict[str, float]:
    """Each profile's holdout share (its own, else the plan's); profiles without one are left out.

    A plan-level share above 0.5 (stored before format 1.4) is refused here by name, so nothing is
    assigned with it; lift.holdout_share_too_large reports it as a finding.
    """
    lift = plan.success_metrics.activation_lift
    shares: dict[str, float] = {}
    for profile in plan.profiles:
        if profile.holdout_share is not None:
            shares[profile.id] = profile.holdout_share
        elif lift is not None:
            try:
                shares[profile.id] = check_share(lift.holdout_share)
            except InputError:
                raise InputError(
                    f"{lift.holdout_share!r} is outside (0, {MAX_SHARE}]: hold out at most half of each "
                    "profile (set a lower share, or a holdout_share on each profile)",
                    field="success_metrics.activation_lift.holdout_share",
                ) from None
    return shares


def holdout_marks(plan: Plan, winners: Sequence[str | None], ids: Sequence[object]) -> list[bool | None]:
    """Per record, whether it is held out of its winning profile; None when the winner has no holdout
    or there is no winner. Only the winner is hashed: a record held out of it stays there, it never
    falls through to the next profile."""
    shares = profile_shares(plan)
    if not shares:
        return [None] * len(winners)
    salt = plan_salt(plan)
    limits = {profile_id: threshold(share) for profile_id, share in shares.items()}
    marks: list[bool | None] = []
    for winner, record_id in zip(winners, ids, strict=True):
        limit = limits.get(winner) if winner is not None else None
        if limit is None or winner is None:
            marks.append(None)
            continue
        value = bucket(salt, winner, record_id)
        marks.append(value is not None and value < limit)
    return marks


_TYPE_KINDS: dict[str, IdKind] = {
    **dict.fromkeys(("VARCHAR", "CHAR", "CHARACTER", "BPCHAR", "TEXT", "STRING", "UUID"), "string"),
    **dict.fromkeys(("BOOLEAN", "BOOL"), "boolean"),
    **dict.fromkeys(("DOUBLE", "FLOAT", "FLOAT4", "FLOAT8", "REAL"), "number"),
    **dict.fromkeys(
        ("TINYINT", "SMALLINT", "INTEGER", "INT", "INT1", "INT2", "INT4", "INT8", "INT16", "INT32", "INT64",
         "INT128", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "LONG",
         "SHORT", "BYTE", "NUMERIC", "DECIMAL", "NUMBER"),
        "integer",
    ),
}  # fmt: skip


def id_kind_of(type_name: str | None, id_column: str, *, where: str) -> IdKind:
    """The id kind for a column type (the inventory's attribute type or the data's SQL type).

    None (not inventoried, or a warehouse table we cannot inspect) is text. Dates, timestamps and
    other types have no canonical id text, so a holdout over them is refused by name.
    """
    if type_name is None:
        return "string"
    if type_name in ID_KINDS:
        return type_name  # type: ignore[return-value]
    upper = type_name.upper().strip()
    kind = _TYPE_KINDS.get(re.split(r"[^A-Z0-9]", upper, maxsplit=1)[0])
    upper = upper.replace(" ", "")
    # DECIMAL(p, 0) ids are whole numbers printed as integers; a scale above 0 prints fractions.
    if kind == "integer" and "," in upper and not upper.endswith(",0)"):
        kind = None
    if kind is None:
        raise InputError(
            f"{where}'s id column {id_column!r} is {type_name}: a holdout id is a string, integer, number "
            "or boolean (set success_metrics.activation_lift.id_column to such a column)",
            field="activation_lift.id_column",
        )
    return kind


def winner_holdout_sql(
    plan: Plan, dialect: str, id_sql: str, members: Sequence[tuple[str, str]], *, id_kind: IdKind
) -> str | None:
    """One CASE over the profiles' member flags in priority order: the winner's holdout verdict.

    `members` are (profile id, its two-valued member flag's SQL), by priority. Only the winning branch
    is evaluated, so each row is hashed at most once, and never for a profile it did not win. NULL when
    the winner has no holdout or there is no winner; None when no profile has a holdout.
    """
    shares = profile_shares(plan)
    if not any(profile_id in shares for profile_id, _ in members):
        return None
    salt = plan_salt(plan)
    branches = []
    for profile_id, flag in members:
        share = shares.get(profile_id)
        verdict = (
            "NULL"
            if share is None
            else holdout_sql(dialect, salt, profile_id, id_sql, share, id_kind=id_kind)
        )
        branches.append(f"WHEN {flag} THEN {verdict}")
    return f"CASE {' '.join(branches)} END"


def id_text_sql(dialect: str, id_sql: str, *, id_kind: IdKind = "string") -> str:
    """The canonical id text in SQL (NULL where canonical_id is None): the lift readout joins
    membership to outcomes on it, so an id typed 42 on one side and '42' on the other still meet."""
    _check_sql_args(dialect, id_kind)
    return _id_text_sql(dialect, id_sql, id_kind)

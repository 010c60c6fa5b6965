"""The holdout columns of the dbt export's pe_verdicts model (docs/exports.md, Holdouts): per
profile with a holdout, the record's verdict; `in_holdout` and `holdout_profile` for its winner."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlglot import exp

from .program import PreparedProfile
from .sql_names import generated

# The record's holdout verdict for each profile that has one. The hash SQL is written per dialect by
# rules.holdout as text (sqlglot would transpile its hex step wrongly), so the query is built with a
# placeholder column that the text replaces once generated, like the clock's instant.
HOLDOUT_COLUMNS = ("in_holdout", "holdout_profile")


def placeholder(index: int) -> str:
    return f"pe_holdout_placeholder_{index}_end"  # _end: no placeholder is a prefix of another


def held_columns(
    profiles: Sequence[PreparedProfile], holdouts: Mapping[str, str], verdicts: list[exp.Expression], d: str
) -> dict[str, exp.Identifier]:
    """Adds each holdout profile's verdict to the verdicts CTE; returns profile id -> its column."""
    held: dict[str, exp.Identifier] = {}
    for profile in profiles:
        if profile.id in holdouts:
            name = generated(f"held_{profile.index}", d)
            column = exp.column(exp.to_identifier(placeholder(profile.index), quoted=False))
            verdicts.append(exp.alias_(column, name, copy=False))
            held[profile.id] = name
    return held


def fill_holdouts(text: str, profiles: Sequence[PreparedProfile], holdouts: Mapping[str, str]) -> str:
    for profile in profiles:
        if profile.id in holdouts:
            token = placeholder(profile.index)
            assert text.count(token) == 1
            text = text.replace(token, holdouts[profile.id])
    return text


def in_holdout(
    members: list[tuple[str, exp.Identifier]], held: Mapping[str, exp.Identifier]
) -> exp.Expression:
    """Whether the record is held out of its winning profile: never of another, and FALSE without
    a winner or a holdout (two-valued, so a dbt test can count it)."""
    ifs = [
        exp.If(
            this=exp.column(name.copy()), true=exp.column(held[pid].copy()) if pid in held else exp.false()
        )
        for pid, name in members
    ]
    return exp.Case(ifs=ifs, default=exp.false()) if ifs else exp.false()


def holdout_profile(
    members: list[tuple[str, exp.Identifier]], held: Mapping[str, exp.Identifier]
) -> exp.Expression:
    """The winner when the record is held out of it, else NULL: what flag systems sync as pe_holdout."""
    null = exp.cast(exp.Null(), exp.DataType.Type.VARCHAR)
    ifs = []
    for pid, name in members:
        value: exp.Expression = null.copy()
        if pid in held:
            value = exp.Case(ifs=[exp.If(this=exp.column(held[pid].copy()), true=exp.Literal.string(pid))])
        ifs.append(exp.If(this=exp.column(name.copy()), true=value))
    return exp.Case(ifs=ifs) if ifs else null

"""The holdout part of the sizing query: which winners are held out, counted per profile.

A row is hashed for its winning profile only (one CASE over the membership flags in priority order),
so a row costs at most one md5 however many profiles have holdouts, and a row held out of its winner
never falls through to the next profile: the CASE stops at the winner whether or not it holds out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import InputError
from ..model import Plan
from ..rules import ProfileSql
from ..rules.holdout import holdout_sql, id_kind_of, plan_id_column, plan_salt, profile_shares

HELD_ALIAS = "pe_held"  # the index of the profile the row is held out of; NULL when it is not held out


@dataclass
class HoldoutSelects:
    """What the holdouts add to the inner, middle and outer SELECT lists of the sizing query."""

    inner: list[str] = field(default_factory=list)
    middle: list[str] = field(default_factory=list)
    outer: list[tuple[str, str]] = field(default_factory=list)
    # A condition that holds for rows that get an experience; activatable counts read it.
    receives: str | None = None


def holdout_selects(
    plan: Plan,
    profiles: list[ProfileSql],
    columns: dict[str, str] | None,
    dialect: str,
    count_where: Callable[[str, str], str],
    column_sql: Callable[[str, str], str],
) -> HoldoutSelects:
    """Empty when no profile has a holdout. A stored plan-level share above 0.5 is refused by name."""
    shares = profile_shares(plan)
    if not any(p.profile_id in shares for p in profiles):
        return HoldoutSelects()
    id_column = plan_id_column(plan)
    if columns is not None and id_column not in columns:
        raise InputError(
            f"the data has no column {id_column!r}, the record id that the holdouts hash; add it, or name "
            "the data's id column in success_metrics.activation_lift.id_column. Nothing was sized or written",
            field="activation_lift.id_column",
        )
    if columns is not None:
        kind = id_kind_of(columns[id_column], id_column, where="the data")
    else:  # a warehouse table we only write SQL for: the inventory's type, else text
        inventoried = {a.name: a.type for a in plan.attributes}.get(id_column)
        kind = id_kind_of(inventoried, id_column, where="the plan")
    salt = plan_salt(plan)
    branches = []
    for i, p in enumerate(profiles):
        share = shares.get(p.profile_id)
        verdict = holdout_sql(dialect, salt, p.profile_id, "pe_id", share, id_kind=kind) if share else None
        held = "NULL" if verdict is None else f"CASE WHEN {verdict} THEN {i} END"
        # The membership from the flags: the middle SELECT cannot read its own pe_n aliases.
        branches.append(f"WHEN pe_e{i} AND NOT pe_s{i} THEN {held}")
    return HoldoutSelects(
        inner=[f"{column_sql(id_column, dialect)} AS pe_id"],
        middle=[f"CASE {' '.join(branches)} END AS {HELD_ALIAS}"],
        outer=[
            (f"holdout_{i}", count_where(f"{HELD_ALIAS} = {i}", dialect))
            for i, p in enumerate(profiles)
            if p.profile_id in shares
        ],
        receives=f"{HELD_ALIAS} IS NULL",
    )

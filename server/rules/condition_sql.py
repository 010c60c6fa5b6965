"""Each condition of a plan's profiles as its own SQL, with where it sits and what removing it means.

The impact of a change (audience/impact_query.py) compares two revisions condition by condition: a
condition that was edited, added or removed explains a record's move when its value for that record
differs between the revisions. A removed (or added) condition is compared with its *neutral* value:
the value that leaves the verdict as if the condition were not there (TRUE inside `all` and at the
root of eligibility, FALSE inside `any`, at the root of suppression and of a scoring condition; the
negation of the `not`'s own neutral value below a `not`). See docs/impact.md, "Drivers".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..model import Plan
from .program import Leaf, Node, attribute_kinds
from .render import describe_condition
from .sql_compiler import SqlBuilder, check_dialect, prepared_profiles


@dataclass(frozen=True)
class ConditionSql:
    """One condition of one profile in one revision."""

    profile_id: str
    pointer: str  # JSON Pointer in its revision's plan, e.g. /profiles/2/eligibility/all/1
    relative: str  # the same below the profile, e.g. /eligibility/all/1
    part: str  # eligibility, suppression or scoring/conditions/<k>
    leaf: Leaf  # equal leaves test the same thing
    neutral: bool
    sql: str  # three-valued: NULL when the condition cannot be decided
    words: str

    @property
    def key(self) -> tuple[str, Leaf, bool]:
        """Two conditions with this key in the same profile are the same condition, wherever they sit."""
        return (self.part, self.leaf, self.neutral)


def _leaves(node: Node, neutral: bool) -> list[tuple[Leaf, bool]]:
    kind, payload = node
    if kind == "leaf":
        return [(payload, neutral)]
    if kind == "not":
        return _leaves(payload, not neutral)
    inner = kind == "all"
    return [found for child in payload for found in _leaves(child, inner)]


def condition_sqls(plan: Plan, dialect: str, *, now: datetime) -> dict[str, list[ConditionSql]]:
    """Profile id -> its conditions (eligibility, suppression, scoring), in the plan's order."""
    check_dialect(dialect)
    builder = SqlBuilder(dialect, now, attribute_kinds(plan))
    found: dict[str, list[ConditionSql]] = {}
    for profile in prepared_profiles(plan, now, "sized"):
        base = f"/profiles/{profile.index}"
        trees = [(profile.eligibility, True), (profile.suppression, False)]
        trees += [(when, False) for when, _ in profile.weights]
        conditions = []
        for tree, neutral in trees:
            if tree is None:
                continue
            for leaf, leaf_neutral in _leaves(tree, neutral):
                relative = leaf.pointer.removeprefix(base)
                scoring = relative.startswith("/scoring/")
                part = relative.split("/when")[0].lstrip("/") if scoring else relative.split("/")[1]
                conditions.append(
                    ConditionSql(
                        profile_id=profile.id,
                        pointer=leaf.pointer,
                        relative=relative,
                        part=part,
                        leaf=leaf,
                        neutral=leaf_neutral,
                        sql=builder.leaf(leaf).sql(dialect=dialect),
                        words=describe_condition(leaf.source),
                    )
                )
        found[profile.id] = conditions
    return found

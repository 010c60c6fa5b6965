"""One aggregate query that sizes every profile, activation, overlap and attribute in a single scan.

The rules layer gives each profile's two-valued eligible and suppressed expressions. An inner
SELECT turns them into one boolean flag per row (and each distinct consent gate into one more), a
middle SELECT derives membership (eligible AND NOT suppressed, as the rules layer defines net), and
the outer SELECT counts flags with the dialect's conditional count (count_if, COUNT(*) FILTER, or
SUM(CASE WHEN ...)), so each predicate is evaluated once per row however many figures read it.
Only the counts come back: rows never leave the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from ..errors import InputError
from ..model import Plan
from ..model.stages import AttributeType
from ..rules import ProfileSql, profile_sql_expressions
from .gates import ActivationGate, activation_gates
from .holdouts import holdout_selects

# Attribute names that are SQL keywords are quoted, exactly as the rules layer quotes them.
_KEYWORDS = {
    word.lower()
    for dialect in ("duckdb", "bigquery")
    for word in Dialect.get_or_raise(dialect).generator_class.RESERVED_KEYWORDS
} | {"user", "value", "date", "timestamp", "time", "year", "month", "day"}
NULL_TYPES: dict[str, exp.DataType.Type] = {
    "string": exp.DataType.Type.VARCHAR,
    "integer": exp.DataType.Type.BIGINT,
    "number": exp.DataType.Type.DOUBLE,
    "boolean": exp.DataType.Type.BOOLEAN,
    "timestamp": exp.DataType.Type.TIMESTAMPTZ,
    "date": exp.DataType.Type.DATE,
}
# Clock skew between the systems that stamp rows and this one; a value later than the evaluation
# time by more than this is in the future (see docs/audience.md, "Freshness").
FUTURE_TOLERANCE = timedelta(minutes=5)
SOURCE_ALIAS = "pe_records"
FLAGS_ALIAS = "pe_flags"
MEMBERS_ALIAS = "pe_members"


def column_sql(name: str, dialect: str) -> str:
    return exp.column(exp.to_identifier(name, quoted=name in _KEYWORDS)).sql(dialect=dialect)


def channel_key(channel: str) -> str:
    """'in-app' -> 'in_app': channel names as output column names."""
    return channel.replace("-", "_")


# Each dialect's own conditional count: several times faster than SUM(CASE WHEN ...) in DuckDB.
_COUNT_IF = {
    "duckdb": "count_if({})",
    "databricks": "count_if({})",
    "snowflake": "COUNT_IF({})",
    "bigquery": "COUNTIF({})",
    "postgres": "COUNT(*) FILTER (WHERE {})",
}


def count_where(condition: str, dialect: str) -> str:
    return _COUNT_IF.get(dialect, "SUM(CASE WHEN {} THEN 1 ELSE 0 END)").format(condition)


@dataclass
class SizingQuery:
    """The SQL and how to read its one result row back into figures."""

    sql: str
    dialect: str
    profile_ids: list[str]  # priority order
    priorities: list[int]
    pairs: list[tuple[int, int]]
    gates: list[ActivationGate]
    channels: list[str]
    channel_gated: dict[str, bool]  # False when some activation on the channel has an unmapped gate
    coverage: list[str]  # attributes counted (present columns only)
    freshness: list[str]  # timestamp attributes with an SLA: newest value, and how many are future
    outputs: list[str] = field(default_factory=list)


def referenced_attributes(plan: Plan) -> set[str]:
    """Attributes the profiles' rules, scoring and decay read."""
    names: set[str] = set()

    def walk(node: object) -> None:
        for key in ("all", "any"):
            children = getattr(node, key, None)
            if isinstance(children, (list, tuple)):
                for child in children:
                    walk(child)
                return
        inner = getattr(node, "not_", None)
        if inner is not None:
            walk(inner)
            return
        attr = getattr(node, "attr", None)
        if isinstance(attr, str):
            names.add(attr)

    for profile in plan.profiles:
        for tree in (profile.eligibility, profile.suppression):
            if tree is not None:
                walk(tree)
        if profile.scoring is not None:
            for condition in profile.scoring.conditions:
                walk(condition.when)
            if profile.scoring.decay is not None:
                names.add(profile.scoring.decay.attr)
    return names


def source_with_missing_columns(
    plan: Plan, relation: str, columns: dict[str, str] | None, dialect: str
) -> tuple[str, list[str]]:
    """The relation, widened with a typed NULL column for each inventoried attribute it lacks.

    A missing column is a coverage finding, not a crash: the rules see it as all null. A rule
    attribute that is neither inventoried nor a column cannot be typed, so it is refused.
    """
    if columns is None:  # a warehouse table we cannot inspect: assume every attribute is a column
        return relation, []
    types: dict[str, AttributeType | None] = {a.name: a.type for a in plan.attributes}
    unknown = sorted(
        name for name in referenced_attributes(plan) if name not in columns and name not in types
    )
    if unknown:
        raise InputError(
            f"the profiles read {', '.join(unknown)}, which is neither an inventoried attribute nor a "
            f"column of the data; add it to the inventory or the data (columns: {_sample(columns)})",
            field="table",
        )
    missing = [name for name in types if name not in columns]
    if not missing:
        return relation, []
    nulls = ", ".join(
        exp.alias_(
            exp.cast(exp.Null(), NULL_TYPES[types[name] or "string"]),
            exp.to_identifier(name, quoted=name in _KEYWORDS),
        ).sql(dialect=dialect)
        for name in missing
    )
    return f"(SELECT *, {nulls} FROM {relation}) AS {SOURCE_ALIAS}", missing


def _sample(columns: dict[str, str], limit: int = 30) -> str:
    names = list(columns)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "") if names else "none"


def _freshness_outputs(names: list[str], dialect: str, now: datetime) -> list[tuple[str, str]]:
    """The newest value not in the future, and the count of values in the future, of each column.

    MAX(column) alone would call a column of future business dates (trial_ends_at) fresh; a value
    later than now (plus the tolerance) records a plan, not an arrival, so it is counted instead.
    """
    limit = (now.astimezone(timezone.utc) + FUTURE_TOLERANCE).isoformat(sep=" ")
    bound = exp.cast(exp.Literal.string(limit), exp.DataType.Type.TIMESTAMPTZ).sql(dialect=dialect)
    outputs = []
    for k, name in enumerate(names):
        column = column_sql(name, dialect)
        outputs += [
            (f"newest_{k}", f"MAX(CASE WHEN {column} <= {bound} THEN {column} END)"),
            (f"future_{k}", count_where(f"{column} > {bound}", dialect)),
        ]
    return outputs


@dataclass
class _Selects:
    """The three SELECT lists, filled side by side so that every figure reads the flags it needs.

    inner: one boolean flag per profile predicate and per distinct consent gate, then the attribute
    columns; middle: those flags, each profile's membership, and the columns again; outer: each
    output's name and its count.
    """

    inner: list[str] = field(default_factory=list)
    middle: list[str] = field(default_factory=list)
    outer: list[tuple[str, str]] = field(default_factory=lambda: [("row_count", "COUNT(*)")])


def _add_profile_counts(selects: _Selects, profiles: list[ProfileSql], dialect: str) -> list[tuple[int, int]]:
    """Each profile's eligible, suppressed, removed, net and winner counts, then every pair's overlap.

    A profile wins a row when the row is its member and no profile earlier in priority order claims
    it. Returns the pairs, in the order of their overlap outputs.
    """
    for i, p in enumerate(profiles):
        selects.inner += [f"({p.eligible}) AS pe_e{i}", f"({p.suppressed}) AS pe_s{i}"]
        selects.middle += [f"pe_e{i}", f"pe_s{i}", f"pe_e{i} AND NOT pe_s{i} AS pe_n{i}"]
        selects.outer += [
            (f"eligible_{i}", count_where(f"pe_e{i}", dialect)),
            (f"suppressed_{i}", count_where(f"pe_s{i}", dialect)),
            (f"removed_{i}", count_where(f"pe_e{i} AND pe_s{i}", dialect)),
            (f"net_{i}", count_where(f"pe_n{i}", dialect)),
        ]
        earlier = " OR ".join(f"pe_n{j}" for j in range(i))
        winner = f"pe_n{i} AND NOT ({earlier})" if earlier else f"pe_n{i}"
        selects.outer.append((f"winner_{i}", count_where(winner, dialect)))
    pairs = [(i, j) for i in range(len(profiles)) for j in range(i + 1, len(profiles))]
    selects.outer += [(f"overlap_{i}_{j}", count_where(f"pe_n{i} AND pe_n{j}", dialect)) for i, j in pairs]
    return pairs


def _add_activation_counts(
    selects: _Selects,
    gates: list[ActivationGate],
    index_of: dict[str, int],
    dialect: str,
    receives: str | None,
) -> dict[int, str]:
    """Each activation's net and activatable counts; returns each gate's flag, by gate index.

    Equal gates share one flag, so a consent check used by many activations is evaluated once.
    `receives` (with holdouts) leaves rows held out of their winner out of activatable: they get no
    profile's experience.
    """
    gate_flags: dict[str, str] = {}  # the gate's SQL -> its flag
    flag_of: dict[int, str] = {}
    for gate in gates:
        checks = " AND ".join(
            f"{column_sql(c.attr, dialect)} IS {'FALSE' if c.negated else 'TRUE'}" for c in gate.checks
        )
        if checks not in gate_flags:
            gate_flags[checks] = f"pe_g{len(gate_flags)}"
            selects.inner.append(f"({checks or 'TRUE'}) AS {gate_flags[checks]}")
            selects.middle.append(gate_flags[checks])
        flag_of[gate.index] = gate_flags[checks]
        member = index_of.get(gate.activation.profile_id)
        net = f"pe_n{member}" if member is not None else "FALSE"
        served = f" AND {receives}" if receives else ""
        selects.outer += [
            (f"activation_net_{gate.index}", count_where(net, dialect)),
            (f"activatable_{gate.index}", count_where(f"{net} AND {flag_of[gate.index]}{served}", dialect)),
        ]
    return flag_of


def _add_channel_counts(
    selects: _Selects,
    plan: Plan,
    gates: list[ActivationGate],
    index_of: dict[str, int],
    flag_of: dict[int, str],
    dialect: str,
    receives: str | None,
) -> tuple[list[str], dict[str, bool]]:
    """Per activated channel, the rows it reaches and the rows its consent gates let through (and,
    with holdouts, that are not held out of their winner).

    Returns the channels, in the plan's order, and whether each one's activatable count is known
    (it is not when some activation on the channel has a gate that names no attribute).
    """
    channels = [c for c in plan.channels if any(g.activation.channel == c for g in gates)]
    channel_gated: dict[str, bool] = {}
    for channel in channels:
        mine = [g for g in gates if g.activation.channel == channel and g.activation.profile_id in index_of]
        channel_gated[channel] = not any(g.unmapped for g in mine)
        reach = " OR ".join(f"pe_n{index_of[g.activation.profile_id]}" for g in mine) or "FALSE"
        gated = (
            " OR ".join(f"(pe_n{index_of[g.activation.profile_id]} AND {flag_of[g.index]})" for g in mine)
            or "FALSE"
        )
        if receives and mine:
            gated = f"({gated}) AND {receives}"
        key = channel_key(channel)
        selects.outer += [
            (f"reachable_{key}", count_where(reach, dialect)),
            (f"activatable_{key}", count_where(gated, dialect)),
        ]
    return channels, channel_gated


def _add_attribute_counts(
    selects: _Selects, plan: Plan, missing: list[str], dialect: str, now: datetime
) -> tuple[list[str], list[str]]:
    """Non-null counts of the attributes the data has, and freshness of its timestamps with an SLA.

    A column we added as all NULL has nothing to measure. Returns (the attributes counted, the
    attributes whose freshness is measured).
    """
    present = [a.name for a in plan.attributes if a.name not in missing]
    selects.inner += [column_sql(name, dialect) for name in present]
    selects.middle += [column_sql(name, dialect) for name in present]
    selects.outer += [
        (f"non_null_{k}", f"COUNT({column_sql(name, dialect)})") for k, name in enumerate(present)
    ]
    freshness = [
        a.name for a in plan.attributes if a.type == "timestamp" and a.freshness_sla and a.name not in missing
    ]
    selects.outer += _freshness_outputs(freshness, dialect, now)
    return present, freshness


def _nested_sql(selects: _Selects, source: str, materialize_flags: bool, fence_members: bool) -> str:
    """Flags over the source, memberships over the flags, counts over the memberships.

    `fence_members` also fences the memberships (with holdouts): PostgreSQL would otherwise inline the
    holdout CASE, and its md5, into every count that reads it.
    """
    fence = " OFFSET 0" if materialize_flags else ""
    member_fence = fence if fence_members else ""
    select_outer = ",\n  ".join(f"{sql} AS {name}" for name, sql in selects.outer)
    flag_list = ",\n      ".join(selects.inner) or "1 AS pe_row"
    member_list = ",\n    ".join(selects.middle) or "1 AS pe_row"
    flags = f"SELECT\n      {flag_list}\n    FROM {source}{fence}"
    members = f"SELECT\n    {member_list}\n  FROM (\n    {flags}\n  ) AS {FLAGS_ALIAS}{member_fence}"
    return f"SELECT\n  {select_outer}\nFROM (\n  {members}\n) AS {MEMBERS_ALIAS}\n"


def build_sizing_query(
    plan: Plan,
    dialect: str,
    relation: str,
    *,
    columns: dict[str, str] | None,
    now: datetime,
    materialize_flags: bool = False,
) -> SizingQuery:
    """The sizing SQL over `relation` (a table name, a file scan, or a subquery with an alias).

    `columns` (name -> type) are the data's columns, or None for a warehouse table we only write SQL
    for. `materialize_flags` fences the inner SELECT (PostgreSQL's OFFSET 0) so its flags are
    computed once per row instead of being inlined into every SUM.
    """
    expressions = profile_sql_expressions(plan, dialect, now=now)
    source, missing = source_with_missing_columns(plan, relation, columns, dialect)
    profiles = list(expressions.values())
    gates = activation_gates(plan)
    index_of = {p.profile_id: i for i, p in enumerate(profiles)}
    # The order of these calls is the order of the outputs and of the flags.
    selects = _Selects()
    pairs = _add_profile_counts(selects, profiles, dialect)
    holdouts = holdout_selects(plan, profiles, columns, dialect, count_where, column_sql)
    selects.inner += holdouts.inner
    selects.middle += holdouts.middle
    selects.outer += holdouts.outer
    receives = holdouts.receives
    flag_of = _add_activation_counts(selects, gates, index_of, dialect, receives)
    channels, channel_gated = _add_channel_counts(selects, plan, gates, index_of, flag_of, dialect, receives)
    present, freshness = _add_attribute_counts(selects, plan, missing, dialect, now)
    return SizingQuery(
        sql=_nested_sql(selects, source, materialize_flags, fence_members=bool(holdouts.middle)),
        dialect=dialect,
        profile_ids=[p.profile_id for p in profiles],
        priorities=[p.priority for p in profiles],
        pairs=pairs,
        gates=gates,
        channels=channels,
        channel_gated=channel_gated,
        coverage=present,
        freshness=freshness,
        outputs=[name for name, _ in selects.outer],
    )

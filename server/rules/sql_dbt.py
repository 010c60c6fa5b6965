"""The SQL of the dbt export's models (docs/exports.md), compiled with the same builder as compile_sql.

The export layer decides the files; this module writes their SQL, because sqlglot lives here. Three
differences from compile_sql:
- the evaluation time is not a literal but a column of a one-row CTE, read from the dbt variable
  `pe_now` (defaulting to the run's start), so every model of one run and every unit test uses one
  instant that the caller chooses;
- the attributes come from several staging models joined on the record id, not from one table;
- dbt renders every model file as Jinja, so a string constant holding a Jinja delimiter ('{{', '{%',
  '{#') is written as a concatenation that splits the delimiter, and dbt leaves it alone.
Relations are passed in as Jinja text (`{{ ref('...') }}`) that the caller generated itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp

from ..model import Plan
from .program import Node, attribute_kinds
from .sql_compiler import SqlBuilder, check_dialect, output_columns, prepared_profiles
from .sql_dbt_holdout import HOLDOUT_COLUMNS, fill_holdouts, held_columns, holdout_profile, in_holdout
from .sql_names import check_id_column, generated, identifier

# The one place the evaluation time enters: an instant text with its offset, from the dbt var.
NOW_JINJA = "{{ var('pe_now', run_started_at.isoformat()) }}"
_PLACEHOLDER = "pe-now-placeholder"
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")


@dataclass(frozen=True)
class ChannelSlot:
    """One profile on a channel: activated there through dbt or not, and its consent gate."""

    profile_id: str
    activated: bool
    gate: Node | None = None


@dataclass(frozen=True)
class SqlInput:
    """A staging model (as Jinja text) and the attributes read from it; the first one is the spine."""

    relation: str
    attrs: tuple[str, ...]


class _DbtBuilder(SqlBuilder):
    def __init__(self, dialect: str, kinds: Mapping[str, str | None]) -> None:
        super().__init__(dialect, None, dict(kinds))

    def now_us_expr(self) -> exp.Expression:
        return exp.column(generated("now_us", self.dialect))


def jinja_safe(expression: exp.Expression) -> exp.Expression:
    """Split every string constant at the Jinja delimiters it holds: 'a{{b' becomes CONCAT('a{',
    '{b'), which means the same and which dbt's Jinja does not read as a tag."""

    def split(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Literal) and node.is_string and _JINJA_OPEN.search(node.this):
            pieces = _JINJA_OPEN.split(node.this)
            parts = [exp.Literal.string(p + "{") for p in pieces[:-1]] + [exp.Literal.string(pieces[-1])]
            return exp.Concat(expressions=parts, safe=True, coalesce=False)
        return node

    return expression.transform(split, copy=False)


def clock_sql(dialect: str) -> str:
    """The one-row CTE body holding the evaluation time in epoch microseconds."""
    builder = _DbtBuilder(dialect, {})
    instant = exp.cast(exp.Literal.string(_PLACEHOLDER), exp.DataType.Type.TIMESTAMPTZ)
    query = exp.select(exp.alias_(builder._instant_us(instant), generated("now_us", dialect)))
    text = query.sql(dialect=dialect)
    assert text.count(f"'{_PLACEHOLDER}'") == 1
    return text.replace(f"'{_PLACEHOLDER}'", f"'{NOW_JINJA}'")


def quoted_name(name: str, dialect: str) -> str:
    """A column name as the models write it (quoted, folded as the dialect folds it)."""
    return identifier(name, dialect).sql(dialect=dialect)


_name = quoted_name


def staging_sql(relation: str, id_attr: str, attrs: Sequence[str], dialect: str) -> str:
    """The source's id and the attributes the models read; a row without an id cannot be joined or
    activated, so it is left out here."""
    names = [id_attr, *(a for a in attrs if a != id_attr)]
    listed = ",\n  ".join(_name(a, dialect) for a in names)
    return f"select\n  {listed}\nfrom {relation}\nwhere {_name(id_attr, dialect)} is not null\n"


def channel_column(channel: str) -> str:
    """The verdicts model's column of the profile activated on `channel`."""
    return f"channel_{channel.replace('-', '_')}"


def verdicts_sql(
    plan: Plan,
    dialect: str,
    *,
    id_attr: str,
    inputs: Sequence[SqlInput],
    channels: Mapping[str, Sequence[ChannelSlot]],
    holdouts: Mapping[str, str] | None = None,
) -> str:
    """One row per id of the spine: `winner`, `in_holdout` and `holdout_profile`, each profile's
    `member_<id>` and `score_<id>`, and per channel `channel_<name>`: the winner when it is activated
    there, its consent gate holds and the record is not in the winner's holdout.

    `holdouts` maps a profile id to its boolean holdout SQL (rules.holdout.holdout_sql over the id)."""
    check_dialect(dialect)
    d = dialect
    builder = _DbtBuilder(d, attribute_kinds(plan))
    profiles = prepared_profiles(plan, None, "exported to dbt")
    pairs = output_columns(plan)
    channel_names = {ch: channel_column(ch) for ch in channels}
    holdouts = holdouts or {}
    check_id_column(
        id_attr,
        d,
        ["winner", *HOLDOUT_COLUMNS, *(n for p in pairs.values() for n in p), *channel_names.values()],
    )
    ident = exp.column(identifier(id_attr, d))

    gates: dict[tuple[str, str], exp.Identifier] = {}
    scored: list[exp.Expression] = [exp.Star()]
    for profile in profiles:
        score = builder.score(profile)
        if score is not None:
            scored.append(exp.alias_(score, generated(f"score_{profile.index}", d), copy=False))
    for position, (channel, slots) in enumerate(channels.items()):
        for slot in slots:
            if slot.activated and slot.gate is not None:
                name = generated(f"gate_{position}_{len(gates)}", d)
                holds = exp.Coalesce(this=builder.tree(slot.gate), expressions=[exp.false()])
                scored.append(exp.alias_(holds, name, copy=False))
                gates[(channel, slot.profile_id)] = name

    verdicts: list[exp.Expression] = [ident.copy()]
    members: list[tuple[str, exp.Identifier]] = []
    for profile in profiles:
        internal = f"score_{profile.index}" if profile.threshold is not None else None
        if internal is not None:
            verdicts.append(exp.column(generated(internal, d)))
        member = generated(f"member_{profile.index}", d)
        verdicts.append(exp.alias_(builder.net(profile, internal), member, copy=False))
        members.append((profile.id, member))
    verdicts += [exp.column(name.copy()) for name in gates.values()]
    held = held_columns(profiles, holdouts, verdicts, d)

    outer: list[exp.Expression] = [
        ident.copy(),
        exp.alias_(_winner(members), identifier("winner", d)),
        exp.alias_(in_holdout(members, held), identifier("in_holdout", d)),
        exp.alias_(holdout_profile(members, held), identifier("holdout_profile", d)),
    ]
    for profile in profiles:
        member_name, score_name = pairs[profile.id]
        outer.append(
            exp.alias_(exp.column(generated(f"member_{profile.index}", d)), identifier(member_name, d))
        )
        if profile.threshold is not None:
            outer.append(
                exp.alias_(exp.column(generated(f"score_{profile.index}", d)), identifier(score_name, d))
            )
    for channel, slots in channels.items():
        assigned = _channel_case(members, {s.profile_id: s for s in slots}, gates, channel, held)
        outer.append(exp.alias_(assigned, identifier(channel_names[channel], d)))

    ctes = [
        ("clock", _indent(clock_sql(d))),
        ("joined", _indent(_joined_sql(id_attr, inputs, d))),
        ("scored", _select(scored, "joined", d, indent=True)),
        ("verdicts", _select(verdicts, "scored", d, indent=True)),
    ]
    parts = [f"{generated(n, d).sql(dialect=d)} as (\n{body}\n)" for n, body in ctes]
    text = "with " + ",\n".join(parts) + "\n" + _select(outer, "verdicts", d) + "\n"
    return fill_holdouts(text, profiles, holdouts)


# Characters str.splitlines() breaks at: a string constant holding one must keep it byte for byte.
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _select(columns: list[exp.Expression], source: str, dialect: str, *, indent: bool = False) -> str:
    query = exp.select(*columns, copy=False).from_(exp.Table(this=generated(source, dialect)), copy=False)
    # sqlglot's pretty printer indents the continuation lines of a string constant, which changes
    # the constant; such a query is written on one line, and not indented, instead.
    if _breaks_lines(query):
        return jinja_safe(query).sql(dialect=dialect, copy=False)
    text = jinja_safe(query).sql(dialect=dialect, pretty=True, copy=False)
    return _indent(text) if indent else text


def _indent(text: str) -> str:
    """Two spaces in; only for SQL whose string constants hold no line break (see _select)."""
    return "\n".join("  " + line if line else line for line in text.split("\n"))


def _breaks_lines(query: exp.Expression) -> bool:
    return any(
        literal.is_string and not _LINE_BREAKS.isdisjoint(literal.this)
        for literal in query.find_all(exp.Literal)
    )


def _joined_sql(id_attr: str, inputs: Sequence[SqlInput], d: str) -> str:
    """The spine's ids with every attribute the rules read, each from its own staging model."""
    key = _name(id_attr, d)
    clock = generated("clock", d).sql(dialect=d)
    columns = [f"{generated('s0', d).sql(dialect=d)}.{key}"]
    joins = []
    for position, source in enumerate(inputs):
        alias = generated(f"s{position}", d).sql(dialect=d)
        columns += [f"{alias}.{_name(a, d)}" for a in source.attrs if a != id_attr]
        if position == 0:
            joins.append(f"from {source.relation} as {alias}")
        else:
            spine = generated("s0", d).sql(dialect=d)
            joins.append(f"left join {source.relation} as {alias} on {alias}.{key} = {spine}.{key}")
    columns.append(f"{clock}.{generated('now_us', d).sql(dialect=d)}")
    joins.append(f"cross join {clock}")
    return "select\n  " + ",\n  ".join(columns) + "\n" + "\n".join(joins)


def _winner(members: list[tuple[str, exp.Identifier]]) -> exp.Expression:
    if not members:
        return exp.cast(exp.Null(), exp.DataType.Type.VARCHAR)
    return exp.Case(
        ifs=[exp.If(this=exp.column(name.copy()), true=exp.Literal.string(pid)) for pid, name in members]
    )


def _channel_case(
    members: list[tuple[str, exp.Identifier]],
    slots: Mapping[str, ChannelSlot],
    gates: Mapping[tuple[str, str], exp.Identifier],
    channel: str,
    held: Mapping[str, exp.Identifier],
) -> exp.Expression:
    """The first member in priority order decides: its id when it is activated on the channel, its
    gate holds and the record is not in its holdout, otherwise NULL (never a lower-priority profile)."""
    ifs = []
    for pid, name in members:
        slot = slots.get(pid)
        value: exp.Expression = exp.cast(exp.Null(), exp.DataType.Type.VARCHAR)
        if slot is not None and slot.activated:
            value = exp.Literal.string(pid)
            gate = gates.get((channel, pid))
            if gate is not None:
                value = exp.Case(ifs=[exp.If(this=exp.column(gate.copy()), true=value)])
            if pid in held:
                value = exp.Case(ifs=[exp.If(this=exp.not_(exp.column(held[pid].copy())), true=value)])
        ifs.append(exp.If(this=exp.column(name.copy()), true=value))
    if not ifs:
        return exp.cast(exp.Null(), exp.DataType.Type.VARCHAR)
    return exp.Case(ifs=ifs)


def member_model_sql(relation: str, id_attr: str, member: str, score: str | None, dialect: str) -> str:
    """A profile's members (eligible, not suppressed) with their score (NULL without scoring)."""
    d = dialect
    value = (
        _name(score, d)
        if score is not None
        else exp.cast(exp.Null(), exp.DataType.Type.DOUBLE).sql(dialect=d)
    )
    return (
        f"select\n  {_name(id_attr, d)},\n  {value} as {_name('score', d)}\n"
        f"from {relation}\nwhere {_name(member, d)}\n"
    )


def assigned_model_sql(relation: str, id_attr: str, column: str, dialect: str) -> str:
    """The ids whose `column` (the winner, or a channel's activated profile) is set, with it."""
    d = dialect
    return (
        f"select\n  {_name(id_attr, d)},\n  {_name(column, d)} as {_name('profile_id', d)}\n"
        f"from {relation}\nwhere {_name(column, d)} is not null\n"
    )


def winner_model_sql(relation: str, id_attr: str, dialect: str) -> str:
    """Each member's winning profile, whether it is held out of it, and the profile it is held out
    of (the column flag systems sync as pe_holdout)."""
    d = dialect
    return (
        f"select\n  {_name(id_attr, d)},\n  {_name('winner', d)} as {_name('profile_id', d)},\n"
        f"  {_name('in_holdout', d)},\n  {_name('holdout_profile', d)}\n"
        f"from {relation}\nwhere {_name('winner', d)} is not null\n"
    )

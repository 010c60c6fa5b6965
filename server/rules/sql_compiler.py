"""Compile profiles to SQL with sqlglot, for duckdb, postgres, snowflake, bigquery and databricks.

SQL's own three-valued logic evaluates the rule trees, so null handling matches the Python evaluator
with no rewriting: a comparison on NULL is unknown, NOT unknown is unknown, and the verdict columns
are made two-valued only at the end (eligible = COALESCE(rule, FALSE), suppressed = COALESCE(rule,
TRUE): an undecidable suppression suppresses).

Time is compared as whole epoch microseconds (BIGINT), as in every other target: a column's instant
comes from the dialect's own epoch function, which for TIMESTAMPTZ is absolute and for DATE and
TIMESTAMP is the UTC reading, so no session time zone enters the result (see docs/rules.md).
"""

from __future__ import annotations

from datetime import datetime
from functools import reduce

from pydantic import BaseModel, Field
from sqlglot import exp

from ..errors import InputError
from ..model import Plan
from ..model.common import duration_seconds
from ..model.targets import SQL_DIALECTS
from .evaluate import MAX_HALVINGS
from .holdout import id_kind_of, plan_id_column, winner_holdout_sql
from .instants import DAY_US, MICROS, as_utc, epoch_us, show_instant
from .program import Leaf, Node, PreparedProfile, attribute_kinds, prepare_profile
from .program import leaves as _leaves
from .sql_names import check_id_column, column, generated, identifier, table_expression, unique_output_names
from .typecheck import refuse_type_errors

_COMPARE = {"eq": exp.EQ, "ne": exp.NEQ, "lt": exp.LT, "lte": exp.LTE, "gt": exp.GT, "gte": exp.GTE}


class ProfileSql(BaseModel):
    """Boolean SQL expressions for one profile, each two-valued (never NULL), plus its score."""

    profile_id: str
    priority: int
    eligible: str = Field(description="TRUE when the profile's eligibility holds.")
    suppressed: str = Field(description="TRUE when suppression holds or cannot be decided (missing data).")
    net: str = Field(description="eligible AND NOT suppressed: membership.")
    score: str | None = Field(None, description="The decayed score (DOUBLE); null without scoring.")


def check_dialect(dialect: str) -> None:
    if dialect not in SQL_DIALECTS:
        raise InputError(
            f"unknown SQL target {dialect!r}; use one of {', '.join(SQL_DIALECTS)}", field="target"
        )


def _function(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _big(value: int) -> exp.Expression:
    literal = exp.Literal.number(abs(value))
    return exp.Neg(this=literal) if value < 0 else literal


def _instant_literal(micros: int) -> exp.Expression:
    """An instant as epoch microseconds, with its ISO form alongside for the reader."""
    literal = _big(micros)
    literal.add_comments([show_instant(micros)])
    return literal


class SqlBuilder:
    def __init__(self, dialect: str, now: datetime | None, kinds: dict[str, str | None]) -> None:
        self.dialect = dialect
        self.now_us = None if now is None else epoch_us(as_utc(now))
        self.kinds = kinds

    def column(self, name: str) -> exp.Column:
        return column(name, self.dialect)

    def epoch_us(self, attr: str) -> exp.Expression:
        """The column's instant in whole microseconds since 1970 UTC, independent of the session zone."""
        value = self.column(attr)
        d = self.dialect
        if self.kinds.get(attr) == "date" and d in ("snowflake", "bigquery", "databricks"):
            if d == "snowflake":
                start = exp.cast(exp.Literal.string("1970-01-01"), exp.DataType.Type.DATE)
                days = _function("DATEDIFF", exp.var("DAY"), start, value)
            else:
                days = _function("UNIX_DATE", value)
            return exp.paren(exp.Mul(this=days, expression=exp.Literal.number(DAY_US)), copy=False)
        return self._instant_us(value)

    def _instant_us(self, value: exp.Expression) -> exp.Expression:
        d = self.dialect
        if d == "duckdb":
            return _function("EPOCH_US", value)
        if d == "postgres":
            seconds = exp.Extract(this=exp.var("EPOCH"), expression=value)
            micros = exp.Mul(this=seconds, expression=exp.Literal.number(MICROS))
            return exp.cast(micros, exp.DataType.Type.BIGINT, copy=False)
        if d == "snowflake":
            return _function("DATE_PART", exp.var("EPOCH_MICROSECOND"), value)
        return _function("UNIX_MICROS", value)

    def now_us_expr(self) -> exp.Expression:
        if self.now_us is not None:
            return _instant_literal(self.now_us)
        return self._instant_us(exp.CurrentTimestamp())

    def window_start(self, window_us: int) -> exp.Expression:
        if self.now_us is not None:
            return _instant_literal(self.now_us - window_us)
        return exp.paren(exp.Sub(this=self.now_us_expr(), expression=_big(window_us)), copy=False)

    def double(self, value: float) -> exp.Expression:
        """A DOUBLE literal, so the arithmetic is the evaluator's (a plain 0.1 is an exact DECIMAL).

        Snowflake and Databricks take exponent notation as a double; there sqlglot's CAST generation
        re-parses the type name each time and would be most of the compile time.
        """
        text = repr(float(value))
        if self.dialect in ("snowflake", "databricks"):
            return exp.Literal.number(text if "e" in text else text + "e0")
        return exp.cast(exp.Literal.number(text), exp.DataType.Type.DOUBLE, copy=False)

    def literal(self, value: object, attr: str) -> exp.Expression:
        if isinstance(value, bool):
            return exp.true() if value else exp.false()
        if isinstance(value, int) and self.kinds.get(attr) == "number":
            return self.double(float(value))  # compared as a double, as in every target
        if isinstance(value, int):
            return _big(value)
        if isinstance(value, float):
            return self.double(value)
        if isinstance(value, str):
            return exp.Literal.string(value)
        raise InputError(f"value {value!r} cannot be written as a SQL literal", field="rule")

    def leaf(self, leaf: Leaf) -> exp.Expression:
        attr = leaf.attr
        column = self.column(attr)
        op, source = leaf.op, leaf.source
        if op in _COMPARE:
            return _COMPARE[op](this=column, expression=self.literal(source.value, attr))
        if op in ("in", "not_in"):
            membership = exp.In(this=column, expressions=[self.literal(v, attr) for v in source.value])
            return membership if op == "in" else exp.Not(this=membership)
        if op == "contains":
            position = exp.StrPosition(this=column, substr=exp.Literal.string(source.value))
            return exp.GT(this=position, expression=exp.Literal.number(0))
        if op == "is_null":
            return exp.Is(this=column, expression=exp.Null())
        if op == "is_not_null":
            return exp.Not(this=exp.Is(this=column, expression=exp.Null()))
        if op == "between":
            low, high = source.value
            return exp.Between(this=column, low=self.literal(low, attr), high=self.literal(high, attr))
        if op in ("within_last", "not_within_last"):
            start = self.window_start(duration_seconds(source.value) * MICROS)
            return (exp.GTE if op == "within_last" else exp.LT)(this=self.epoch_us(attr), expression=start)
        if op in ("before", "after"):
            instant = _instant_literal(leaf.operand)
            return (exp.LT if op == "before" else exp.GT)(this=self.epoch_us(attr), expression=instant)
        raise AssertionError(f"unhandled operator {op}")

    def tree(self, node: Node) -> exp.Expression:
        kind, payload = node
        if kind == "leaf":
            return self.leaf(payload)
        if kind == "not":
            return exp.Not(this=exp.paren(self.tree(payload), copy=False))
        parts = [self.tree(child) for child in payload]
        joined = reduce(lambda a, b: (exp.And if kind == "all" else exp.Or)(this=a, expression=b), parts)
        return exp.paren(joined, copy=False)

    def score(self, profile: PreparedProfile) -> exp.Expression | None:
        if profile.threshold is None:
            return None
        terms = [
            exp.Case(ifs=[exp.If(this=self.tree(when), true=self.double(weight))], default=self.double(0.0))
            for when, weight in profile.weights
        ]
        total: exp.Expression = exp.paren(
            reduce(lambda a, b: exp.Add(this=a, expression=b), terms), copy=False
        )
        decay = profile.decay
        if decay is None:
            return total
        return exp.Mul(this=total, expression=exp.paren(self.decay_factor(decay), copy=False))

    def decay_factor(self, decay) -> exp.Expression:
        is_null = exp.Is(this=self.column(decay.attr), expression=exp.Null())
        if decay.kind == "lookback":
            inside = exp.GTE(this=self.epoch_us(decay.attr), expression=self.window_start(decay.window_us))
            return exp.Case(ifs=[exp.If(this=inside, true=self.double(1.0))], default=self.double(0.0))

        def age() -> exp.Expression:  # whole microseconds (BIGINT), exact
            return exp.paren(exp.Sub(this=self.now_us_expr(), expression=self.epoch_us(decay.attr)))

        def halvings() -> exp.Expression:  # both sides as doubles, as Python and JavaScript compute it
            as_double = exp.cast(age(), exp.DataType.Type.DOUBLE, copy=False)
            return exp.Div(this=as_double, expression=self.double(float(decay.window_us)))

        return exp.Case(
            ifs=[
                exp.If(this=is_null, true=self.double(0.0)),
                exp.If(this=exp.LTE(this=age(), expression=exp.Literal.number(0)), true=self.double(1.0)),
                # POWER would underflow to 0 here, and PostgreSQL raises an error instead
                exp.If(
                    this=exp.GTE(this=halvings(), expression=self.double(MAX_HALVINGS)), true=self.double(0.0)
                ),
            ],
            default=exp.Pow(this=self.double(0.5), expression=halvings()),
        )

    def profile(self, profile: PreparedProfile) -> dict[str, exp.Expression | None]:
        # Every part is built afresh where it is used: sqlglot nodes have one parent, and building is
        # cheaper than sqlglot's deep copy.
        eligible = self.eligible(profile)
        suppressed = self.suppressed(profile)
        return {
            "eligible": eligible,
            "suppressed": suppressed,
            "net": self.net(profile),
            "score": self.score(profile),
        }

    def net(self, profile: PreparedProfile, score_column: str | None = None) -> exp.Expression:
        eligible = self.eligible(profile, score_column)
        return exp.And(this=eligible, expression=exp.Not(this=self.suppressed(profile)))

    def eligible(self, profile: PreparedProfile, score_column: str | None = None) -> exp.Expression:
        """`score_column` names a column already holding the score, instead of computing it again."""
        rule = self.tree(profile.eligibility) if profile.eligibility is not None else exp.true()
        score = (
            self.score(profile) if score_column is None else exp.column(generated(score_column, self.dialect))
        )
        scored = (
            exp.paren(exp.GTE(this=score, expression=self.double(profile.threshold)), copy=False)
            if score is not None and profile.threshold is not None
            else exp.false()
        )
        mode = profile.eligible_by
        if mode == "rule":
            eligible = rule
        elif mode == "score":
            eligible = scored
        elif mode == "rule_and_score":
            eligible = exp.And(this=rule, expression=scored)
        else:
            eligible = exp.Or(this=rule, expression=scored)
        return exp.Coalesce(this=eligible, expressions=[exp.false()])

    def suppressed(self, profile: PreparedProfile) -> exp.Expression:
        if profile.suppression is None:
            return exp.false()
        return exp.Coalesce(this=self.tree(profile.suppression), expressions=[exp.true()])


def prepared_profiles(plan: Plan, now: datetime | None, purpose: str) -> list[PreparedProfile]:
    refuse_type_errors(plan, purpose)
    kinds = attribute_kinds(plan)
    # With no fixed instant the SQL reads the clock itself; the instant here only feeds Python-side
    # boundaries, which the builder does not use then.
    now_us = epoch_us(as_utc(now)) if now is not None else 0
    profiles = [prepare_profile(p, i, now_us, kinds) for i, p in enumerate(plan.profiles)]
    return sorted(profiles, key=lambda p: (p.priority, p.index))


def profile_sql_expressions(
    plan: Plan, dialect: str, *, now: datetime | None = None
) -> dict[str, ProfileSql]:
    """Per profile, two-valued SQL expressions over the record's columns, for audience queries."""
    check_dialect(dialect)
    builder = SqlBuilder(dialect, now, attribute_kinds(plan))
    result = {}
    for profile in prepared_profiles(plan, now, "sized"):
        parts = builder.profile(profile)
        score = parts["score"]
        result[profile.id] = ProfileSql(
            profile_id=profile.id,
            priority=profile.priority,
            eligible=parts["eligible"].sql(dialect=dialect, copy=False),
            suppressed=parts["suppressed"].sql(dialect=dialect, copy=False),
            net=parts["net"].sql(dialect=dialect, copy=False),
            score=None if score is None else score.sql(dialect=dialect, copy=False),
        )
    return result


def output_columns(plan: Plan) -> dict[str, tuple[str, str]]:
    """Profile id -> (member column, score column) in compile_sql's output; ids are made SQL-safe."""
    return unique_output_names([profile.id for profile in plan.profiles])


def _read_columns(profiles: list[PreparedProfile]) -> list[str]:
    names: set[str] = set()
    for profile in profiles:
        trees = [t for t in (profile.eligibility, profile.suppression) if t is not None]
        trees += [when for when, _ in profile.weights]
        names.update(leaf.attr for tree in trees for leaf in _leaves(tree))
        if profile.decay is not None:
            names.add(profile.decay.attr)
    return sorted(names)


_HOLDOUT_PLACEHOLDER = "pe_in_holdout_expression"


def compile_sql(
    plan: Plan,
    dialect: str,
    *,
    table: str = "profiles",
    id_column: str | None = None,
    now: datetime | None = None,
) -> str:
    """A SELECT of the ids that are members of at least one profile, the winner, memberships and scores.

    Three levels: the record columns the rules read plus each score (`_pe_score_<n>`), then each
    membership (`_pe_member_<n>`), then the output columns `winner`, `in_holdout` (when a profile has
    a holdout), `member_<id>`, `score_<id>`. `id_column` defaults to the plan's
    activation_lift.id_column ('id').
    """
    check_dialect(dialect)
    id_column = id_column or plan_id_column(plan)
    source = table_expression(table, dialect)
    columns = output_columns(plan)
    names = ["winner", "in_holdout", *(name for pair in columns.values() for name in pair)]
    check_id_column(id_column, dialect, names)
    builder = SqlBuilder(dialect, now, attribute_kinds(plan))
    profiles = prepared_profiles(plan, now, "compiled")
    d = dialect
    read = [name for name in _read_columns(profiles) if name != id_column]
    scores: list[exp.Expression] = [builder.column(id_column), *(builder.column(name) for name in read)]
    inner: list[exp.Expression] = [builder.column(id_column)]
    outer: list[exp.Expression] = [builder.column(id_column)]
    members: list[tuple[PreparedProfile, exp.Identifier]] = []
    for profile in profiles:
        member, score_name = columns[profile.id]
        score = builder.score(profile)
        internal_score = f"score_{profile.index}"
        if score is not None:
            scores.append(exp.alias_(score, generated(internal_score, d), copy=False))
            inner.append(exp.column(generated(internal_score, d)))
        net = builder.net(profile, internal_score if score is not None else None)
        inner.append(exp.alias_(net, generated(f"member_{profile.index}", d), copy=False))
        members.append((profile, generated(f"member_{profile.index}", d)))
        outer.append(exp.alias_(exp.column(generated(f"member_{profile.index}", d)), identifier(member, d)))
        if score is not None:
            outer.append(exp.alias_(exp.column(generated(internal_score, d)), identifier(score_name, d)))
    scored = exp.select(*scores, copy=False).from_(source, copy=False)
    verdicts = exp.select(*inner, copy=False).from_(
        exp.alias_(exp.Subquery(this=scored), generated("scored", d), table=True, copy=False), copy=False
    )
    if not profiles:
        winner: exp.Expression = exp.cast(exp.Null(), exp.DataType.Type.VARCHAR)
        condition: exp.Expression = exp.false()
    else:
        winner = exp.Case(
            ifs=[exp.If(this=exp.column(name.copy()), true=exp.Literal.string(p.id)) for p, name in members]
        )
        condition = reduce(
            lambda a, b: exp.Or(this=a, expression=b), [exp.column(name.copy()) for _, name in members]
        )
    outer.insert(1, exp.alias_(winner, identifier("winner", d), copy=False))
    holdout, note = _winner_holdout(plan, d, builder.column(id_column).sql(dialect=d), id_column, members)
    if holdout is not None:
        placeholder = exp.column(exp.to_identifier(_HOLDOUT_PLACEHOLDER, quoted=False))
        outer.insert(2, exp.alias_(placeholder, identifier("in_holdout", d), copy=False))
    query = (
        exp.select(*outer, copy=False)
        .from_(
            exp.alias_(exp.Subquery(this=verdicts), generated("verdicts", d), table=True, copy=False),
            copy=False,
        )
        .where(condition, copy=False)
    )
    sql = query.sql(dialect=dialect, pretty=True, copy=False) + "\n"
    if holdout is None:
        return sql
    # The holdout SQL is written per dialect (rules.holdout) and proven as written: it is spliced in
    # as text, not re-parsed and regenerated by sqlglot.
    return note + sql.replace(_HOLDOUT_PLACEHOLDER, holdout, 1)


def _winner_holdout(
    plan: Plan,
    dialect: str,
    id_sql: str,
    id_column: str,
    members: list[tuple[PreparedProfile, exp.Identifier]],
) -> tuple[str | None, str]:
    """The in_holdout CASE over the member columns, and a comment saying how the id is read."""
    kind = attribute_kinds(plan).get(id_column)
    id_kind = id_kind_of(kind, id_column, where="the inventory")
    flags = [(p.id, exp.column(name.copy()).sql(dialect=dialect)) for p, name in members]
    holdout = winner_holdout_sql(plan, dialect, id_sql, flags, id_kind=id_kind)
    source = "its inventory type" if kind is not None else "not inventoried, so read as text"
    note = (
        f"-- in_holdout: held out of the winning profile by the md5 holdout hash of {id_column} "
        f"(id kind {id_kind}: {source}); NULL when the winner has no holdout. See docs/audience.md.\n"
    )
    return holdout, note

"""Compile profiles to SQL with sqlglot, for duckdb, postgres, snowflake, bigquery and databricks.

SQL's own three-valued logic evaluates the rule trees, so null handling matches the Python evaluator
with no rewriting: a comparison on NULL is unknown, NOT unknown is unknown, and the verdict columns
are made two-valued only at the end (eligible = COALESCE(rule, FALSE), suppressed = COALESCE(rule,
TRUE): an undecidable suppression suppresses).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import reduce

from pydantic import BaseModel, Field
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from ..errors import InputError
from ..model import Plan
from ..model.common import duration_seconds
from ..model.targets import SQL_DIALECTS
from .program import Leaf, Node, PreparedProfile, as_utc, epoch, prepare_profile

# Reserved words are quoted in every dialect; sqlglot knows DuckDB's and BigQuery's lists, which
# together cover the ANSI ones (order, group, user, ...).
_KEYWORDS = {
    word.lower()
    for dialect in ("duckdb", "bigquery")
    for word in Dialect.get_or_raise(dialect).generator_class.RESERVED_KEYWORDS
} | {"user", "value", "date", "timestamp", "time", "year", "month", "day"}
_COMPARE = {"eq": exp.EQ, "ne": exp.NEQ, "lt": exp.LT, "lte": exp.LTE, "gt": exp.GT, "gte": exp.GTE}


class ProfileSql(BaseModel):
    """Boolean SQL expressions for one profile, each two-valued (never NULL), plus its score."""

    profile_id: str
    priority: int
    eligible: str = Field(description="TRUE when the profile's eligibility holds.")
    suppressed: str = Field(description="TRUE when suppression holds or cannot be decided (missing data).")
    net: str = Field(description="eligible AND NOT suppressed: membership.")
    score: str | None = Field(None, description="The decayed score (DOUBLE); null without scoring.")


def _check_dialect(dialect: str) -> None:
    if dialect not in SQL_DIALECTS:
        raise InputError(
            f"unknown SQL target {dialect!r}; use one of {', '.join(SQL_DIALECTS)}", field="target"
        )


def _identifier(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=name in _KEYWORDS)


def _column(name: str) -> exp.Column:
    return exp.Column(this=_identifier(name))


class _SqlBuilder:
    def __init__(self, dialect: str, now: datetime | None) -> None:
        self.dialect = dialect
        self.now = None if now is None else as_utc(now)

    def timestamp(self, moment: datetime) -> exp.Expression:
        return exp.cast(
            exp.Literal.string(moment.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMPTZ, copy=False
        )

    def now_expr(self) -> exp.Expression:
        return exp.CurrentTimestamp() if self.now is None else self.timestamp(self.now)

    def window_start(self, seconds: int) -> exp.Expression:
        if self.now is not None:
            return self.timestamp(self.now - timedelta(seconds=seconds))
        amount, unit = (seconds // 86_400, "DAY") if seconds % 86_400 == 0 else (seconds // 60, "MINUTE")
        return exp.Sub(
            this=exp.CurrentTimestamp(),
            expression=exp.Interval(this=exp.Literal.string(str(amount)), unit=exp.var(unit)),
        )

    def epoch_of(self, value: exp.Expression) -> exp.Expression:
        """Seconds since 1970 as a double, to the microsecond."""
        million = exp.Literal.number("1000000.0")
        if self.dialect == "snowflake":
            micros = exp.Anonymous(this="DATE_PART", expressions=[exp.var("EPOCH_MICROSECOND"), value])
            return exp.Div(this=micros, expression=million)
        if self.dialect in ("bigquery", "databricks"):
            micros = exp.Anonymous(this="UNIX_MICROS", expressions=[value])
            return exp.Div(this=micros, expression=million)
        return exp.TimeToUnix(this=value)

    def double(self, value: float) -> exp.Expression:
        """A DOUBLE literal, so the arithmetic is the evaluator's (a plain 0.1 is an exact DECIMAL).

        Snowflake and Databricks take exponent notation as a double; there sqlglot's CAST generation
        re-parses the type name each time and would be most of the compile time.
        """
        text = repr(float(value))
        if self.dialect in ("snowflake", "databricks"):
            return exp.Literal.number(text if "e" in text else text + "e0")
        return exp.cast(exp.Literal.number(text), exp.DataType.Type.DOUBLE, copy=False)

    def now_epoch(self) -> exp.Expression:
        return self.epoch_of(exp.CurrentTimestamp()) if self.now is None else self.double(epoch(self.now))

    def literal(self, value: object) -> exp.Expression:
        if isinstance(value, bool):
            return exp.true() if value else exp.false()
        if isinstance(value, int):
            return exp.Literal.number(value)
        if isinstance(value, float):
            return self.double(value)
        if isinstance(value, str):
            return exp.Literal.string(value)
        raise InputError(f"value {value!r} cannot be written as a SQL literal", field="rule")

    def leaf(self, leaf: Leaf) -> exp.Expression:
        column = _column(leaf.attr)
        op, source = leaf.op, leaf.source
        if op in _COMPARE:
            return _COMPARE[op](this=column, expression=self.literal(source.value))
        if op in ("in", "not_in"):
            membership = exp.In(this=column, expressions=[self.literal(v) for v in source.value])
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
            return exp.Between(this=column, low=self.literal(low), high=self.literal(high))
        if op in ("within_last", "not_within_last"):
            start = self.window_start(duration_seconds(source.value))
            return (exp.GTE if op == "within_last" else exp.LT)(this=column, expression=start)
        if op in ("before", "after"):
            instant = self.timestamp(as_utc(source.value))
            return (exp.LT if op == "before" else exp.GT)(this=column, expression=instant)
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
        column = _column(decay.attr)
        is_null = exp.Is(this=column, expression=exp.Null())
        if decay.kind == "lookback":
            inside = exp.GTE(this=column, expression=self.window_start(decay.window_seconds))
            factor = exp.Case(ifs=[exp.If(this=inside, true=self.double(1.0))], default=self.double(0.0))
        else:

            def age() -> exp.Expression:
                return exp.paren(
                    exp.Sub(this=self.now_epoch(), expression=self.epoch_of(_column(decay.attr)))
                )

            halvings = exp.Div(this=age(), expression=self.double(float(decay.window_seconds)))
            factor = exp.Case(
                ifs=[
                    exp.If(this=is_null, true=self.double(0.0)),
                    exp.If(this=exp.LTE(this=age(), expression=self.double(0.0)), true=self.double(1.0)),
                ],
                default=exp.Pow(this=self.double(0.5), expression=halvings),
            )
        return exp.Mul(this=total, expression=exp.paren(factor, copy=False))

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
        score = self.score(profile) if score_column is None else exp.column(score_column)
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


def _prepared(plan: Plan, now: datetime | None) -> list[PreparedProfile]:
    # With no fixed instant the SQL reads the clock itself; the epoch here only feeds Python-side boundaries.
    now_epoch = epoch(now) if now is not None else 0.0
    profiles = [prepare_profile(p, i, now_epoch) for i, p in enumerate(plan.profiles)]
    return sorted(profiles, key=lambda p: (p.priority, p.index))


def profile_sql_expressions(
    plan: Plan, dialect: str, *, now: datetime | None = None
) -> dict[str, ProfileSql]:
    """Per profile, two-valued SQL expressions over the record's columns, for audience queries."""
    _check_dialect(dialect)
    builder = _SqlBuilder(dialect, now)
    result = {}
    for profile in _prepared(plan, now):
        parts = builder.profile(profile)
        score = parts["score"]
        result[profile.id] = ProfileSql(
            profile_id=profile.id,
            priority=profile.priority,
            eligible=parts["eligible"].sql(dialect=dialect),
            suppressed=parts["suppressed"].sql(dialect=dialect),
            net=parts["net"].sql(dialect=dialect),
            score=None if score is None else score.sql(dialect=dialect),
        )
    return result


def output_columns(plan: Plan) -> dict[str, tuple[str, str]]:
    """Profile id -> (member column, score column) in compile_sql's output; ids are made SQL-safe."""
    names: dict[str, tuple[str, str]] = {}
    used: set[str] = set()
    for index, profile in enumerate(plan.profiles):
        safe = profile.id.replace("-", "_")
        if safe in used:
            safe = f"{safe}_{index}"
        used.add(safe)
        names[profile.id] = (f"member_{safe}", f"score_{safe}")
    return names


def compile_sql(
    plan: Plan,
    dialect: str,
    *,
    table: str = "profiles",
    id_column: str = "id",
    now: datetime | None = None,
) -> str:
    """A SELECT of the ids that are members of at least one profile, the winner, memberships and scores."""
    _check_dialect(dialect)
    for label, name in (("table", table), ("id_column", id_column)):
        if not all(part.replace("_", "a").isalnum() for part in name.split(".")) or not name:
            raise InputError(
                f"{name!r} is not a plain SQL name; use letters, digits, '_' (and '.' for a table)",
                field=label,
            )
    builder = _SqlBuilder(dialect, now)
    profiles = _prepared(plan, now)
    columns = output_columns(plan)
    # Scores are computed once, in a first SELECT, and the membership tests read them from there.
    scores: list[exp.Expression] = [exp.Star()]
    inner: list[exp.Expression] = [_column(id_column)]
    for profile in profiles:
        member, score_name = columns[profile.id]
        score = builder.score(profile)
        if score is not None:
            scores.append(exp.alias_(score, score_name, copy=False))
            inner.append(exp.column(score_name))
        inner.append(
            exp.alias_(builder.net(profile, score_name if score is not None else None), member, copy=False)
        )
    scored = exp.select(*scores, copy=False).from_(exp.to_table(table), copy=False)
    source = exp.alias_(exp.Subquery(this=scored), "scored", table=True, copy=False)
    verdicts = exp.select(*inner, copy=False).from_(source, copy=False)
    if not profiles:
        winner: exp.Expression = exp.cast(exp.Null(), exp.DataType.Type.VARCHAR)
        condition: exp.Expression = exp.false()
    else:
        winner = exp.Case(
            ifs=[exp.If(this=exp.column(columns[p.id][0]), true=exp.Literal.string(p.id)) for p in profiles]
        )
        condition = reduce(
            lambda a, b: exp.Or(this=a, expression=b), [exp.column(columns[p.id][0]) for p in profiles]
        )
    outer_columns: list[exp.Expression] = [_column(id_column), exp.alias_(winner, "winner", copy=False)]
    for profile in profiles:
        member, score_name = columns[profile.id]
        outer_columns.append(exp.column(member))
        if profile.threshold is not None:
            outer_columns.append(exp.column(score_name))
    query = (
        exp.select(*outer_columns, copy=False)
        .from_(exp.alias_(exp.Subquery(this=verdicts), "verdicts", table=True, copy=False), copy=False)
        .where(condition, copy=False)
    )
    return query.sql(dialect=dialect, pretty=True) + "\n"

"""The SQL convenience input: a boolean expression parsed with sqlglot into the canonical JSON tree.

The accepted subset, and what each form becomes:
- `a AND b`, `a OR b`, `NOT a`, parentheses: all / any / not;
- `col = v`, `<>`/`!=`, `<`, `<=`, `>`, `>=` with a literal on one side: eq, ne, lt, lte, gt, gte;
- `col IN (...)`, `col NOT IN (...)`, `col BETWEEN lo AND hi`, `col IS [NOT] NULL`;
- `col LIKE '%text%'` (no other wildcards): contains;
- a bare boolean column `col` is `col = TRUE`;
- `col >= now() - INTERVAL n unit`: within_last 'n<unit>'; `col < now() - INTERVAL ...`: not_within_last.
  The window's boundary is inclusive (within_last is `col >= now - d`), so `>` and `<=` against
  `now() - INTERVAL` are refused rather than silently shifted by one instant;
- `col < TIMESTAMP '...'` (or DATE, or CAST('...' AS TIMESTAMP)): before; `col > ...`: after; and
  `col >= t` / `col <= t` become `not before` / `not after`, which is the same test in three-valued
  logic.
Anything else (other functions, arithmetic, subqueries, column-to-column comparisons, qualified or
unknown columns) is refused with the fragment quoted.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from ..errors import InputError
from ..model.common import MAX_DURATION_SECONDS, MAX_DURATION_TEXT, duration_seconds
from .instants import parse_instant

_NOW_FUNCTIONS = {"now", "current_timestamp", "get_current_timestamp", "localtimestamp"}
_UNITS = {
    "minute": "m",
    "minutes": "m",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "week": "w",
    "weeks": "w",
}
_FLIP = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ, exp.NEQ: exp.NEQ}
_OPS = {exp.EQ: "eq", exp.NEQ: "ne", exp.LT: "lt", exp.LTE: "lte", exp.GT: "gt", exp.GTE: "gte"}
MAX_SQL_LENGTH = 20_000


def sql_to_tree(text: str, *, pointer: str, attributes: Collection[str] | None) -> dict[str, Any]:
    field = pointer or "/"
    if len(text) > MAX_SQL_LENGTH:
        raise InputError(
            f"SQL rule is {len(text)} characters; at most {MAX_SQL_LENGTH} are allowed", field=field
        )
    if not text.strip():
        raise InputError(
            "SQL rule is empty; write a boolean expression such as plan_tier = 'free'", field=field
        )
    too_deep = InputError(
        "SQL rule nests parentheses or NOTs too deeply; a rule tree has at most 32 levels", field=field
    )
    try:
        parsed = sqlglot.parse(text, read="duckdb")
    except (ParseError, TokenError) as exc:
        raise InputError(
            f"SQL rule {_shorten(text)!r} does not parse: {_first_line(exc)}", field=field
        ) from None
    except RecursionError:  # sqlglot's parser recurses once per nesting level
        raise too_deep from None
    if len(parsed) != 1 or parsed[0] is None:
        raise InputError(
            f"SQL rule {_shorten(text)!r} must be one boolean expression, not statements", field=field
        )
    try:
        return _Converter(text, field, attributes).node(parsed[0])
    except RecursionError:
        raise too_deep from None


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


class _Converter:
    def __init__(self, text: str, field: str, attributes: Collection[str] | None) -> None:
        self.text = text
        self.field = field
        self.attributes = set(attributes) if attributes is not None else None
        self.depth = 0

    def refuse(self, fragment: exp.Expression, why: str) -> InputError:
        return InputError(
            f"{fragment.sql(dialect='duckdb')!r} in SQL rule is not supported: {why}", field=self.field
        )

    def node(self, e: exp.Expression) -> dict[str, Any]:
        self.depth += 1
        if self.depth > 200:  # the tree limit (32) is checked afterwards; this only stops runaway input
            raise self.refuse(e, "nested too deeply")
        try:
            return self._node(e)
        finally:
            self.depth -= 1

    def _node(self, e: exp.Expression) -> dict[str, Any]:
        if isinstance(e, exp.Paren):
            return self.node(e.this)
        if isinstance(e, (exp.And, exp.Or)):
            key = "all" if isinstance(e, exp.And) else "any"
            return {key: [self.node(part) for part in self._flatten(e, type(e))]}
        if isinstance(e, exp.Not):
            return self._negated(e.this)
        if isinstance(e, exp.Column):
            return {"op": "eq", "attr": self.column(e), "value": True}
        if isinstance(e, tuple(_OPS)):
            return self._comparison(e)
        if isinstance(e, exp.In):
            return self._in(e, "in")
        if isinstance(e, exp.Between):
            low, high = self.literal(e.args["low"]), self.literal(e.args["high"])
            return {"op": "between", "attr": self.column(e.this), "value": [low, high]}
        if isinstance(e, exp.Is):
            if isinstance(e.expression, exp.Null):
                return {"op": "is_null", "attr": self.column(e.this)}
            raise self.refuse(e, "IS is only supported as IS NULL / IS NOT NULL; compare with = TRUE instead")
        if isinstance(e, exp.Like):
            return self._like(e)
        if isinstance(e, (exp.Subquery, exp.Select, exp.Exists)):
            raise self.refuse(e, "subqueries are outside the rule subset")
        if isinstance(e, exp.Func):
            raise self.refuse(
                e, "functions are outside the rule subset (only now() - INTERVAL in a time test)"
            )
        raise self.refuse(e, "use comparisons on columns joined with AND, OR, NOT")

    @staticmethod
    def _flatten(e: exp.Expression, kind: type) -> list[exp.Expression]:
        parts, stack = [], [e]
        while stack:
            current = stack.pop()
            while isinstance(current, exp.Paren) and isinstance(current.this, kind):
                current = current.this
            if isinstance(current, kind):
                stack.extend([current.expression, current.this])
            else:
                parts.append(current)
        return parts

    def _negated(self, inner: exp.Expression) -> dict[str, Any]:
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            return {"op": "is_not_null", "attr": self.column(inner.this)}
        if isinstance(inner, exp.In):
            return self._in(inner, "not_in")
        return {"not": self.node(inner)}

    def column(self, e: exp.Expression) -> str:
        if not isinstance(e, exp.Column):
            raise self.refuse(e, "expected a column name here")
        if e.table:
            raise self.refuse(e, "qualified column names are not supported; use the attribute name alone")
        name = e.name
        if (
            not isinstance(e.this, exp.Identifier)
            or name != name.lower()
            or not name.replace("_", "a").isalnum()
        ):
            raise self.refuse(e, "attribute names are snake_case")
        if self.attributes is not None and name not in self.attributes:
            known = ", ".join(sorted(self.attributes)[:20]) or "none yet"
            raise self.refuse(e, f"unknown column {name!r}; the attribute inventory has: {known}")
        return name

    def literal(self, e: exp.Expression) -> Any:
        if isinstance(e, exp.Paren):
            return self.literal(e.this)
        if isinstance(e, exp.Neg) and isinstance(e.this, exp.Literal) and not e.this.is_string:
            return -self.literal(e.this)
        if isinstance(e, exp.Boolean):
            return bool(e.this)
        if isinstance(e, exp.Null):
            raise self.refuse(e, "comparing with NULL is never true; use IS NULL or IS NOT NULL")
        if isinstance(e, exp.Literal):
            if e.is_string:
                return e.this
            text = e.this
            try:
                return int(text) if text.lstrip("-").isdigit() else float(text)
            except ValueError:
                raise self.refuse(e, "not a number") from None
        raise self.refuse(e, "expected a literal string, number or boolean here")

    def _comparison(self, e: exp.Expression) -> dict[str, Any]:
        kind: type = type(e)
        left, right = e.this, e.expression
        if not isinstance(left, exp.Column):
            left, right, kind = right, left, _FLIP[kind]
        if not isinstance(left, exp.Column):
            raise self._outside_subset(e)
        attr = self.column(left)
        window = self._window(right)
        if window is not None:
            if kind is exp.GTE:
                return {"op": "within_last", "attr": attr, "value": window}
            if kind is exp.LT:
                return {"op": "not_within_last", "attr": attr, "value": window}
            raise self.refuse(
                e,
                "against now() - INTERVAL use >= (within_last, boundary included) or < "
                "(not_within_last); the boundary is inclusive, so > and <= have no exact equivalent",
            )
        instant = self._instant(right)
        if instant is not None:
            if kind is exp.LT:
                return {"op": "before", "attr": attr, "value": instant}
            if kind is exp.GT:
                return {"op": "after", "attr": attr, "value": instant}
            if kind is exp.GTE:
                return {"not": {"op": "before", "attr": attr, "value": instant}}
            if kind is exp.LTE:
                return {"not": {"op": "after", "attr": attr, "value": instant}}
            raise self.refuse(e, "compare timestamps with <, <=, > or >= (before/after)")
        if isinstance(right, (exp.Column, exp.Func, exp.Binary, exp.Subquery)) and not isinstance(
            right, exp.Neg
        ):
            raise self._outside_subset(e)
        return {"op": _OPS[kind], "attr": attr, "value": self.literal(right)}

    def _outside_subset(self, e: exp.Expression) -> InputError:
        for node in e.walk():
            if isinstance(node, (exp.Subquery, exp.Select)):
                return self.refuse(node, "subqueries are outside the rule subset")
            if isinstance(node, exp.Func) and not self._is_now(node):
                return self.refuse(node, "functions are outside the rule subset (only now() - INTERVAL)")
        return self.refuse(e, "one side of a comparison must be a column and the other a literal")

    def _in(self, e: exp.In, op: str) -> dict[str, Any]:
        if e.args.get("query") or e.args.get("unnest") or e.args.get("field"):
            raise self.refuse(e, "IN takes a list of literals; subqueries are outside the rule subset")
        return {"op": op, "attr": self.column(e.this), "value": [self.literal(v) for v in e.expressions]}

    def _like(self, e: exp.Like) -> dict[str, Any]:
        pattern = e.expression
        text = pattern.this if isinstance(pattern, exp.Literal) and pattern.is_string else None
        core = text[1:-1] if text and len(text) > 2 and text[0] == "%" and text[-1] == "%" else None
        if not core or "%" in core or "_" in core or e.args.get("escape"):
            raise self.refuse(e, "LIKE is only supported as LIKE '%text%' (contains) without other wildcards")
        return {"op": "contains", "attr": self.column(e.this), "value": core}

    def _window(self, e: exp.Expression) -> str | None:
        """'14d' for `now() - INTERVAL 14 DAY`, None when `e` is not that shape."""
        while isinstance(e, exp.Paren):
            e = e.this
        if not isinstance(e, exp.Sub) or not self._is_now(e.this):
            if self._is_now(e):
                raise self.refuse(e, "compare with now() - INTERVAL n DAY (a window), not now() alone")
            return None
        interval = e.expression
        if not isinstance(interval, exp.Interval):
            raise self.refuse(e, "subtract an INTERVAL such as INTERVAL 14 DAY from now()")
        amount = interval.this.this if isinstance(interval.this, exp.Literal) else None
        unit_node = interval.args.get("unit")
        unit = unit_node.name.lower() if unit_node is not None else ""
        if isinstance(amount, str) and " " in amount.strip() and not unit:
            amount, unit = amount.split(None, 1)
            unit = unit.lower()
        if not (isinstance(amount, str) and amount.strip().isdigit() and unit in _UNITS and int(amount) >= 1):
            raise self.refuse(
                interval, "use a positive whole number of MINUTE, HOUR, DAY or WEEK, e.g. INTERVAL 14 DAY"
            )
        window = f"{int(amount)}{_UNITS[unit]}"
        if int(amount) > 999_999 or duration_seconds(window) > MAX_DURATION_SECONDS:
            raise self.refuse(interval, f"a window is at most {MAX_DURATION_TEXT}")
        return window

    @staticmethod
    def _is_now(e: exp.Expression) -> bool:
        if isinstance(e, (exp.CurrentTimestamp, exp.CurrentDatetime)):
            return True
        return isinstance(e, exp.Anonymous) and e.name.lower() in _NOW_FUNCTIONS and not e.expressions

    def _instant(self, e: exp.Expression) -> str | None:
        if isinstance(e, exp.Cast) and isinstance(e.this, exp.Literal) and e.this.is_string:
            if e.to.is_type(*exp.DataType.TEMPORAL_TYPES):
                text = e.this.this.strip()
                if parse_instant(text.replace(" ", "T")) is None:
                    raise self.refuse(e, "not an ISO 8601 date or date-time")
                return text.replace(" ", "T")
            raise self.refuse(e, "casts are only supported to TIMESTAMP or DATE")
        if isinstance(e, exp.Cast):
            raise self.refuse(
                e, "casts are only supported on a literal timestamp, e.g. TIMESTAMP '2026-11-01'"
            )
        return None

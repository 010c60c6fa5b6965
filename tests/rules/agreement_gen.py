"""Hostile plans and records for the agreement test, drawn from a seeded random.Random.

Each family of issue 14 has its own generator: attribute names (plain, reserved in any of the five
dialects, inherited by JavaScript objects, or named like the compiler's own columns), big and
boundary numbers, instants from 0001 to 9999, fractional and non-UTC evaluation times, windows up to
the maximum, and nulls everywhere. Values are placed on the boundaries the rules draw.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlglot.dialects.dialect import Dialect

from personalization_engine.model.common import duration_seconds
from personalization_engine.rules.instants import (
    DAY_US,
    MICROS,
    epoch_us,
    from_epoch_us,
    parse_instant,
)

KINDS = ["string", "integer", "number", "boolean", "timestamp", "date"]
OPS_BY_KIND = {
    "string": ["eq", "ne", "in", "not_in", "contains", "is_null", "is_not_null"],
    "integer": ["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "between", "is_null", "is_not_null"],
    "number": ["eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "not_in", "is_null"],
    "boolean": ["eq", "ne", "in", "is_null", "is_not_null"],
    "timestamp": ["within_last", "not_within_last", "before", "after", "is_null", "is_not_null"],
    "date": ["within_last", "not_within_last", "before", "after", "is_null"],
}
# Every condition operator, in the order the agreement tests report them.
ALL_OPS = [
    "eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "is_null", "is_not_null", "between",
    "within_last", "not_within_last", "before", "after",
]  # fmt: skip
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _reserved_names() -> list[str]:
    """Every keyword of the five dialects that is also a valid attribute name."""
    names: set[str] = {"current_schema", "current_user", "session_user", "user", "localtimestamp"}
    for dialect in ("duckdb", "postgres", "snowflake", "bigquery", "databricks"):
        found = Dialect.get_or_raise(dialect)
        names |= {word.lower() for word in found.generator_class.RESERVED_KEYWORDS}
        names |= {word.lower() for word in found.tokenizer_class.KEYWORDS if " " not in word}
    return sorted(name for name in names if _NAME.match(name) and name != "id")


RESERVED = _reserved_names()
PROTOTYPE = ["constructor"]
GENERATED = ["score_p0", "score_p1", "member_p0", "member_p1", "member_p2", "winner", "scored", "verdicts"]
GENERATED += ["pe_e0", "pe_n0", "score_p_0"]
PLAIN = ["a", "b", "c", "d", "e"]

STRINGS = ["free", "pro", "free_trial", "", "it's", "back\\slash", "50%_off", "ü", "FREE"]
SUBSTRINGS = ["free", "o", "'", "%", "\\", "_o"]
INTEGERS = [
    -3,
    0,
    1,
    5,
    10,
    2**31,
    -(2**31) - 1,
    2**53 - 1,
    2**53,
    2**53 + 1,
    -(2**53) - 1,
    2**63 - 1,
    -(2**63),
]
NUMBERS = [-1.5, 0.0, -0.0, 0.1, 2.5, 1e6, 1 / 3, 0.30000000000000004, 1e308, -1e308, 5e-324, 2.0**53]
NUMBER_CONSTANTS = [*NUMBERS, 2**53 + 1, 9007199254740993, 7, -2]  # ints become doubles
WINDOWS = ["1m", "90m", "1h", "2d", "14d", "1w", "999999m", "876600h", "36525d", "5217w", "3650d"]
WEIGHTS = [-2.5, -1.0, 0.5, 1.0, 1.5, 3.0, 1e6]
THRESHOLDS = [-1.0, 0.0, 0.5, 1.0, 2.5, 1e-300]
ZONES = ["UTC", "Asia/Tokyo", "America/St_Johns", "Pacific/Chatham", "Asia/Kolkata", "America/Los_Angeles"]
OFFSETS = [timedelta(0), timedelta(hours=5, minutes=30), timedelta(hours=-8), timedelta(hours=13, minutes=45)]
FIRST_US = epoch_us(datetime(1, 1, 2, tzinfo=timezone.utc))
LAST_US = epoch_us(datetime(9999, 12, 30, tzinfo=timezone.utc))
JS_FIRST_US = epoch_us(datetime(1685, 1, 1, tzinfo=timezone.utc))
JS_LAST_US = epoch_us(datetime(2255, 1, 1, tzinfo=timezone.utc)) - 1


@dataclass
class Case:
    """One generated plan: attribute kinds, profile bodies, records, the evaluation time, the session zone."""

    kinds: dict[str, str]
    bodies: list[dict[str, Any]]
    records: list[dict[str, Any]]
    now: datetime
    zone: str
    table: str
    families: set[str] = field(default_factory=set)


class Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, items: list[Any]) -> Any:
        return items[self.rng.randrange(len(items))]

    # --- names and kinds ------------------------------------------------------------------------
    def names(self, count: int, families: set[str]) -> list[str]:
        chosen: list[str] = []
        while len(chosen) < count:
            family, pool = self.pick(
                [("plain", PLAIN), ("plain", PLAIN), ("reserved", RESERVED), ("generated", GENERATED),
                 ("prototype", PROTOTYPE)]
            )  # fmt: skip
            name = self.pick(pool)
            if name not in chosen:
                chosen.append(name)
                families.add(f"name:{family}")
        return chosen

    # --- evaluation time --------------------------------------------------------------------------
    def now(self, families: set[str]) -> datetime:
        roll = self.rng.random()
        if roll < 0.6:  # inside the years JSON Logic can hold
            micros = self.rng.randrange(JS_FIRST_US + 200 * 365 * DAY_US, JS_LAST_US - 100 * 365 * DAY_US)
        elif roll < 0.8:
            micros = epoch_us(datetime(2026, 11, 24, 9, tzinfo=timezone.utc)) + self.rng.randrange(
                -DAY_US, DAY_US
            )
        else:
            micros = self.rng.randrange(FIRST_US, LAST_US)
            families.add("now:far")
        if micros % MICROS:
            families.add("now:fractional")
        moment = from_epoch_us(micros)
        assert moment is not None
        offset = self.pick(OFFSETS)
        if offset and FIRST_US + DAY_US < micros < LAST_US - DAY_US:
            families.add("now:non_utc")
            moment = moment.astimezone(timezone(offset))
        return moment

    # --- rules ----------------------------------------------------------------------------------
    def condition(self, kinds: dict[str, str], plan: dict[str, Any]) -> dict[str, Any]:
        attr = self.pick(sorted(kinds))
        kind = kinds[attr]
        op = self.pick(OPS_BY_KIND[kind])
        node: dict[str, Any] = {"op": op, "attr": attr}
        pool = {"string": STRINGS, "integer": INTEGERS, "number": NUMBER_CONSTANTS, "boolean": [True, False]}
        values = pool.get(kind)
        if op in ("eq", "ne", "lt", "lte", "gt", "gte"):
            node["value"] = self.pick(values)
        elif op in ("in", "not_in"):
            node["value"] = self.rng.sample(values, self.rng.randint(1, min(3, len(values))))
        elif op == "contains":
            node["value"] = self.pick(SUBSTRINGS)
        elif op == "between":
            node["value"] = sorted(self.rng.sample(values, 2))
        elif op in ("within_last", "not_within_last"):
            node["value"] = self.pick(WINDOWS)
            plan["windows"].append(node["value"])
        elif op in ("before", "after"):
            node["value"] = self.instant_text(plan)
        return node

    def instant_text(self, plan: dict[str, Any]) -> str:
        roll = self.rng.random()
        if roll < 0.5:
            micros = self.rng.randrange(JS_FIRST_US, JS_LAST_US)
        elif roll < 0.7:
            micros = plan["now_us"] + self.rng.randrange(-30 * DAY_US, 30 * DAY_US)
        else:
            micros = self.rng.randrange(FIRST_US, LAST_US)
        if self.rng.random() < 0.3:
            micros -= micros % DAY_US  # a date: midnight UTC
        plan["instants"].append(micros)
        moment = from_epoch_us(micros)
        assert moment is not None
        if micros % DAY_US == 0 and self.rng.random() < 0.5:
            return moment.date().isoformat()
        return moment.isoformat().replace("+00:00", "Z")

    def tree(self, kinds: dict[str, str], plan: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        kind = self.pick(["leaf", "leaf", "all", "any", "not"] if depth < 3 else ["leaf"])
        if kind == "leaf":
            return self.condition(kinds, plan)
        if kind == "not":
            return {"not": self.tree(kinds, plan, depth + 1)}
        return {kind: [self.tree(kinds, plan, depth + 1) for _ in range(self.rng.randint(1, 3))]}

    def profile(self, kinds: dict[str, str], index: int, plan: dict[str, Any]) -> dict[str, Any]:
        times = [name for name, kind in kinds.items() if kind in ("timestamp", "date")]
        mode = self.pick(["rule", "score", "rule_and_score", "rule_or_score"])
        body: dict[str, Any] = {
            "id": f"p{index}",
            "name": f"Profile {index}",
            "priority": self.pick([1, 2, 3]),
            "eligible_by": mode,
        }
        if self.rng.random() < 0.5 or mode != "score":
            body["eligibility"] = self.tree(kinds, plan)
        if self.rng.random() < 0.5:
            body["suppression"] = self.tree(kinds, plan)
        if mode != "rule" or self.rng.random() < 0.5:
            scoring: dict[str, Any] = {
                "conditions": [
                    {"when": self.tree(kinds, plan, 2), "weight": self.pick(WEIGHTS)}
                    for _ in range(self.rng.randint(1, 3))
                ],
                "threshold": self.pick(THRESHOLDS),
            }
            if times and self.rng.random() < 0.67:
                window = self.pick(WINDOWS)
                plan["windows"].append(window)
                scoring["decay"] = {
                    "kind": self.pick(["half_life", "lookback"]),
                    "attr": self.pick(times),
                    "window": window,
                }
            body["scoring"] = scoring
        return body

    # --- records --------------------------------------------------------------------------------
    def time_points(self, plan: dict[str, Any]) -> list[int]:
        now = plan["now_us"]
        points = [now, now + 1, now - 1, FIRST_US, LAST_US, JS_FIRST_US, JS_LAST_US]
        for window in plan["windows"]:
            start = now - duration_seconds(window) * MICROS
            points += [start, start - 1, start + 1, start - duration_seconds(window) * MICROS]
        for instant in plan["instants"]:
            points += [instant, instant - 1, instant + 1]
        return [p for p in points if FIRST_US <= p <= LAST_US]

    def value(self, kind: str, plan: dict[str, Any]) -> Any:
        if self.rng.random() < 0.18:
            return None
        if kind == "string":
            return self.pick([*STRINGS, "other", "pro_free", "x'free'"])
        if kind == "integer":
            value = self.pick(INTEGERS) + self.pick([0, 0, 1, -1])
            value = max(-(2**63), min(2**63 - 1, value))
            return str(value) if self.rng.random() < 0.1 else value
        if kind == "number":
            value = self.pick(NUMBERS)
            value = self.pick(
                [value, value, math.nextafter(value, math.inf), math.nextafter(value, -math.inf)]
            )
            return 9007199254740993 if self.rng.random() < 0.05 else value
        if kind == "boolean":
            return self.pick([True, False, "true", "FALSE", 1, 0])
        micros = (
            self.pick(self.time_points(plan))
            if self.rng.random() < 0.8
            else self.rng.randrange(FIRST_US, LAST_US)
        )
        moment = from_epoch_us(micros)
        assert moment is not None
        if kind == "date":
            return moment.date().isoformat()
        offset = self.pick(OFFSETS)
        if offset and FIRST_US + DAY_US < micros < LAST_US - DAY_US:
            return moment.astimezone(timezone(offset)).isoformat()
        return moment.isoformat().replace("+00:00", "Z")

    def case(self) -> Case:
        families: set[str] = set()
        names = self.names(self.rng.randint(1, 5), families)
        kinds = {name: self.pick(KINDS) for name in names}
        now = self.now(families)
        plan: dict[str, Any] = {"now_us": epoch_us(now), "windows": [], "instants": []}
        bodies = [self.profile(kinds, i, plan) for i in range(self.rng.randint(1, 3))]
        records = []
        for _ in range(self.rng.randint(8, 24)):
            record = {name: self.value(kind, plan) for name, kind in kinds.items()}
            if self.rng.random() < 0.1:
                record = dict.fromkeys(kinds)  # null everywhere
            elif self.rng.random() < 0.1:
                record.pop(self.pick(names))  # a missing key is null
            records.append(record)
        zone = self.pick(ZONES)
        table = self.pick(["profiles", "order", "values", "user"])
        return Case(kinds, bodies, records, now, zone, table, families)


def instant_us(text: str) -> int:
    parsed = parse_instant(text)
    assert parsed is not None, text
    return epoch_us(parsed)

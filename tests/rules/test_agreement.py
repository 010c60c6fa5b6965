"""The three targets agree: Python evaluator, compiled SQL on DuckDB, compiled JSON Logic (panzi-json-logic).

Hypothesis generates inventories, profiles (eligibility, suppression, scoring with decay, every
eligible_by mode, equal and distinct priorities) and a batch of records per plan, with nulls and values
placed exactly on window boundaries and constants. Membership, eligibility, suppression and winners
must be identical; scores equal within 1e-9 relative. A counter of hard cases fails the test when
the generator missed one.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_logic import jsonLogic
from json_logic.builtins import BUILTINS

from personalization_engine.model.common import duration_seconds
from personalization_engine.rules import (
    HALF_LIFE_OP,
    compile_jsonlogic,
    compile_sql,
    half_life_decay,
    jsonlogic_data,
    profile_sql_expressions,
    simulate,
)
from personalization_engine.rules.program import as_utc, epoch, parse_instant

from .helpers import NOW, make_plan

OPERATIONS = {**BUILTINS, HALF_LIFE_OP: lambda _data, *args: half_life_decay(*args)}
NAMES = ["a", "b", "c", "d"]
KINDS = ["string", "integer", "number", "boolean", "timestamp"]
OPS_BY_KIND = {
    "string": ["eq", "ne", "in", "not_in", "contains", "is_null", "is_not_null"],
    "integer": ["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "between", "is_null", "is_not_null"],
    "number": ["eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "is_null"],
    "boolean": ["eq", "ne", "in", "is_null", "is_not_null"],
    "timestamp": ["within_last", "not_within_last", "before", "after", "is_null", "is_not_null"],
}
ALL_OPS = sorted({op for ops in OPS_BY_KIND.values() for op in ops})
STRINGS = ["free", "pro", "free_trial", "team"]
INTEGERS = [-3, 0, 1, 5, 10]
NUMBERS = [-1.5, 0.0, 0.1, 2.5, 1e6]
DURATIONS = ["1m", "90m", "1h", "2d", "14d", "1w"]
INSTANTS = ["2026-11-01", "2026-11-24T08:00:00Z", "2026-10-01T00:00:00+02:00"]
WEIGHTS = [-2.5, -1.0, 0.5, 1.0, 1.5, 3.0]
THRESHOLDS = [-1.0, 0.0, 0.5, 1.0, 2.5]
EXPECTED_HARD_CASES = {
    *(f"op:{op}" for op in ALL_OPS),
    *(f"null:{where}" for where in ("eligibility", "suppression", "scoring", "decay", "not", "any", "all")),
    "boundary:window",
    "boundary:instant",
    "boundary:lookback",
    "boundary:half_life_window",
    "decay:half_life",
    "decay:lookback",
    "nested:not>any",
    "nested:not>all",
    "nested:any>all",
    "nested:all>any",
    *(f"mode:{m}" for m in ("rule", "score", "rule_and_score", "rule_or_score")),
    "priority:tie",
    "winner:none",
    "winner:some",
}
MIN_CASES = 2000
SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
}


def condition(draw, kinds: dict[str, str]) -> dict[str, Any]:
    attr = draw(st.sampled_from(sorted(kinds)))
    kind = kinds[attr]
    op = draw(st.sampled_from(OPS_BY_KIND[kind]))
    node: dict[str, Any] = {"op": op, "attr": attr}
    pool = {"string": STRINGS, "integer": INTEGERS, "number": NUMBERS, "boolean": [True, False]}.get(kind)
    if op in ("eq", "ne", "lt", "lte", "gt", "gte"):
        node["value"] = draw(st.sampled_from(pool))
    elif op in ("in", "not_in"):
        node["value"] = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    elif op == "contains":
        node["value"] = draw(st.sampled_from(["free", "o", "_t", "x"]))
    elif op == "between":
        node["value"] = sorted(draw(st.lists(st.sampled_from(pool), min_size=2, max_size=2)))
    elif op in ("within_last", "not_within_last"):
        node["value"] = draw(st.sampled_from(DURATIONS))
    elif op in ("before", "after"):
        node["value"] = draw(st.sampled_from(INSTANTS))
    return node


def tree(draw, kinds: dict[str, str], depth: int = 0) -> dict[str, Any]:
    kind = draw(st.sampled_from(["leaf", "leaf", "all", "any", "not"] if depth < 3 else ["leaf"]))
    if kind == "leaf":
        return condition(draw, kinds)
    if kind == "not":
        return {"not": tree(draw, kinds, depth + 1)}
    size = draw(st.integers(1, 3))
    return {kind: [tree(draw, kinds, depth + 1) for _ in range(size)]}


def profile(draw, kinds: dict[str, str], index: int) -> dict[str, Any]:
    timestamps = [name for name, kind in kinds.items() if kind == "timestamp"]
    mode = draw(st.sampled_from(["rule", "score", "rule_and_score", "rule_or_score"]))
    body: dict[str, Any] = {
        "id": f"p{index}",
        "name": f"Profile {index}",
        "priority": draw(st.sampled_from([1, 2, 3])),
        "eligible_by": mode,
    }
    if draw(st.booleans()) or mode != "score":
        body["eligibility"] = tree(draw, kinds)
    if draw(st.booleans()):
        body["suppression"] = tree(draw, kinds)
    if mode != "rule" or draw(st.booleans()):
        scoring: dict[str, Any] = {
            "conditions": [
                {"when": tree(draw, kinds, 2), "weight": draw(st.sampled_from(WEIGHTS))}
                for _ in range(draw(st.integers(1, 3)))
            ],
            "threshold": draw(st.sampled_from(THRESHOLDS)),
        }
        if timestamps and draw(st.integers(0, 2)):
            scoring["decay"] = {
                "kind": draw(st.sampled_from(["half_life", "lookback"])),
                "attr": draw(st.sampled_from(timestamps)),
                "window": draw(st.sampled_from(DURATIONS)),
            }
        body["scoring"] = scoring
    return body


def interesting_times() -> list[float]:
    now = epoch(NOW)
    points = [now, now + 3600]
    for duration in DURATIONS:
        boundary = now - duration_seconds(duration)
        points += [boundary, boundary - 1, boundary + 1, boundary - duration_seconds(duration)]
    for instant in INSTANTS:
        value = epoch(as_utc(parse_instant(instant)))
        points += [value, value - 1, value + 1]
    return points


TIMES = interesting_times()


def value_for(draw, kind: str) -> Any:
    if draw(st.integers(0, 5)) == 0:
        return None
    if kind == "string":
        return draw(st.sampled_from([*STRINGS, "", "other", "pro_free"]))
    if kind == "integer":
        return draw(st.sampled_from([*INTEGERS, 2, 11, -4]))
    if kind == "number":
        return draw(st.sampled_from([*NUMBERS, 0.2, 2.4999, 3.0]))
    if kind == "boolean":
        return draw(st.booleans())
    seconds = draw(st.sampled_from(TIMES))
    return (NOW + timedelta(seconds=seconds - epoch(NOW))).isoformat().replace("+00:00", "Z")


def walk(node: dict[str, Any], ancestors: tuple[str, ...] = ()):
    for key in ("all", "any"):
        if key in node:
            for child in node[key]:
                yield from walk(child, (*ancestors, key))
            return
    if "not" in node:
        yield from walk(node["not"], (*ancestors, "not"))
        return
    yield node, ancestors


def count_hard_cases(counter: Counter, plan_profiles: list[dict], records: list[dict], kinds) -> None:
    now = epoch(NOW)
    priorities = Counter(p["priority"] for p in plan_profiles)
    if any(count > 1 for count in priorities.values()):
        counter["priority:tie"] += 1
    for body in plan_profiles:
        counter[f"mode:{body['eligible_by']}"] += 1
        trees = [("eligibility", body.get("eligibility")), ("suppression", body.get("suppression"))]
        scoring = body.get("scoring")
        if scoring:
            trees += [("scoring", c["when"]) for c in scoring["conditions"]]
            decay = scoring.get("decay")
            if decay:
                counter[f"decay:{decay['kind']}"] += 1
                window = duration_seconds(decay["window"])
                for record in records:
                    value = record.get(decay["attr"])
                    if value is None:
                        counter["null:decay"] += 1
                    elif epoch(_parse(value)) == now - window:
                        counter[
                            f"boundary:{'lookback' if decay['kind'] == 'lookback' else 'half_life_window'}"
                        ] += 1
        for position, root in trees:
            if root is None:
                continue
            for leaf, ancestors in walk(root):
                counter[f"op:{leaf['op']}"] += 1
                for outer, inner in itertools.pairwise(ancestors):
                    if inner in ("all", "any") and outer != inner:
                        counter[f"nested:{outer}>{inner}"] += 1
                for record in records:
                    value = record.get(leaf["attr"])
                    if value is None:
                        counter[f"null:{position}"] += 1
                        for ancestor in set(ancestors):
                            counter[f"null:{ancestor}"] += 1
                    elif leaf["op"] in ("within_last", "not_within_last"):
                        if epoch(_parse(value)) == now - duration_seconds(leaf["value"]):
                            counter["boundary:window"] += 1
                    elif leaf["op"] in ("before", "after") and epoch(_parse(value)) == epoch(
                        parse_instant(leaf["value"])
                    ):
                        counter["boundary:instant"] += 1


def _parse(text: str):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def sql_results(connection, plan, kinds, records) -> tuple[dict, dict]:
    connection.execute("DROP TABLE IF EXISTS profiles")
    columns = ", ".join(f"{name} {SQL_TYPES[kind]}" for name, kind in kinds.items())
    connection.execute(f"CREATE TABLE profiles (id INTEGER, {columns})")
    placeholders = ", ".join(
        "CAST(? AS TIMESTAMPTZ)" if kind == "timestamp" else "?" for kind in kinds.values()
    )
    connection.executemany(
        f"INSERT INTO profiles VALUES (?, {placeholders})",
        [[i, *(record.get(name) for name in kinds)] for i, record in enumerate(records)],
    )
    expressions = profile_sql_expressions(plan, "duckdb", now=NOW)
    selected = []
    for parts in expressions.values():
        selected += [parts.eligible, parts.suppressed, parts.net, parts.score or "NULL"]
    rows = connection.execute(f"SELECT id, {', '.join(selected)} FROM profiles ORDER BY id").fetchall()
    verdicts = {}
    for row in rows:
        values = list(row[1:])
        for profile_id in expressions:
            eligible, suppressed, net, score = values[:4]
            values = values[4:]
            verdicts[(row[0], profile_id)] = (eligible, suppressed, net, score)
    winners_sql = compile_sql(plan, "duckdb", now=NOW)
    winners = {row[0]: row[1] for row in connection.execute(winners_sql).fetchall()}
    return verdicts, winners


def same_score(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.slow
def test_python_sql_and_jsonlogic_agree_on_generated_rules_and_records():
    counter: Counter = Counter()
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")

    @settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def check(data):
        draw = data.draw
        kinds = {name: draw(st.sampled_from(KINDS)) for name in NAMES[: draw(st.integers(1, 4))]}
        attributes = [{"name": name, "type": kind} for name, kind in kinds.items()]
        bodies = [profile(draw, kinds, i) for i in range(draw(st.integers(1, 3)))]
        records = [
            {name: value_for(draw, kind) for name, kind in kinds.items()}
            for _ in range(draw(st.integers(8, 24)))
        ]
        plan = make_plan(bodies, attributes=attributes)
        count_hard_cases(counter, bodies, records, kinds)

        python = simulate(plan, records, NOW)
        sql, sql_winners = sql_results(connection, plan, kinds, records)
        logic = compile_jsonlogic(plan)
        for index, record in enumerate(records):
            verdict = python.records[index]
            explained = {e.profile_id: e for e in verdict.explanations or []}
            data_for_logic = jsonlogic_data(plan, record, NOW)
            for body in bodies:
                pid = body["id"]
                counter["cases"] += 1
                eligible, suppressed, member = (
                    pid in verdict.eligible,
                    pid in verdict.suppressed,
                    pid in verdict.members,
                )
                score = verdict.scores.get(pid)
                context = f"profile {body} record {record}"
                assert sql[(index, pid)][:3] == (eligible, suppressed, member), context
                assert same_score(sql[(index, pid)][3], score), context
                compiled = logic["profiles"][pid]
                assert jsonLogic(compiled["eligibility"], data_for_logic, OPERATIONS) is eligible, context
                assert bool(jsonLogic(compiled["suppression"], data_for_logic, OPERATIONS)) is suppressed, (
                    context
                )
                assert bool(jsonLogic(compiled["member"], data_for_logic, OPERATIONS)) is member, context
                logic_score = (
                    None
                    if compiled["score"] is None
                    else jsonLogic(compiled["score"], data_for_logic, OPERATIONS)
                )
                assert same_score(logic_score, score), context
                # the explaining evaluator (one record at a time) agrees with the column evaluator
                assert (explained[pid].eligible, explained[pid].suppressed, explained[pid].member) == (
                    eligible,
                    suppressed,
                    member,
                ), context
            assert sql_winners.get(index) == verdict.winner, record
            assert jsonLogic(logic["winner"], data_for_logic, OPERATIONS) == verdict.winner, record
            counter["winner:some" if verdict.winner else "winner:none"] += 1

    check()
    missing = sorted(EXPECTED_HARD_CASES - set(counter))
    assert not missing, f"the generator never produced: {missing}"
    assert counter["cases"] >= MIN_CASES, counter["cases"]

"""The holdout part of the agreement run: Python's in_holdout and the compiled SQL's agree per record.

Each case gets a holdout variant from a random source of its own (so the rest of a seed's cases stay
as they were): shares per profile and/or a plan-level share, a hostile salt, and a hostile id column
of one kind (NULL, Unicode, quotes, separators, huge and negative integers, whole floats, fractions,
NaN and infinities). The compiled SQL returns one row per member record (id, winner, in_holdout);
rows are compared with Python's as multisets keyed by the id's canonical text, which is as strict as
row by row: two rows with the same id and winner hash alike.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from personalization_engine.model import ActivationLift, Plan
from personalization_engine.rules import compile_sql, simulate
from personalization_engine.rules.holdout import canonical_id

from .agreement_gen import Case
from .engines import load_table
from .helpers import make_plan

HOLDOUT_TABLE = "holdout_rows"
ID_VALUES: dict[str, list[Any]] = {
    "string": [None, "", "42", "\u00e9", "e\u0301", "O'Brien", 'say "hi"', "back\\slash", "a\x1fb", "tab\t",
               "\U0001f3b2", "x" * 300, " 42 ", "NULL", "-0", "\u202eevil"],
    "integer": [None, 0, 42, -12, 2**63 - 1, -(2**63), 2**53 + 1, -(2**53)],
    "number": [None, 0.0, -0.0, 42.0, -12.0, 2.0**53 - 1, 2.0**53, 1.5, -0.25, 1e300, float("nan"),
               float("inf"), float("-inf")],
    "boolean": [None, True, False],
}  # fmt: skip
SALTS = [None, "salt", "s'\u00e4\"lt \U0001f3b2", "plan-x", "\u0645\u0644\u062d"]
SHARES = [None, None, 0.5, 0.25, 0.1, 1e-9]


def _fresh_id(rng: random.Random, kind: str, index: int) -> Any:
    roll = rng.random()
    if roll < 0.4:
        return rng.choice(ID_VALUES[kind])
    if kind == "string":
        prefix = rng.choice(["u", "\u00e9", "'"])
        return f"{prefix}{rng.randrange(10**6)}-{index}"
    if kind == "integer":
        return rng.randrange(-(2**63), 2**63)
    if kind == "number":
        return float(rng.randrange(-(2**53), 2**53)) if roll < 0.8 else rng.uniform(-1e6, 1e6)
    return rng.random() < 0.5


def holdout_plan(rng: random.Random, case: Case) -> tuple[Plan, list[dict[str, Any]], str] | None:
    """The case's plan with holdouts, its records with ids, and the id kind; None: no holdout this time."""
    bodies = [{**body, "holdout_share": rng.choice(SHARES)} for body in case.bodies]
    plan_share = rng.choice([None, 0.5, 0.2])
    if plan_share is None and all(body["holdout_share"] is None for body in bodies):
        return None
    kind = rng.choice(list(ID_VALUES))
    attributes = [{"name": n, "type": k} for n, k in case.kinds.items()]
    # The compiled SQL reads the id by its inventory type, and as text when it is not inventoried.
    if kind != "string" or rng.random() < 0.5:
        attributes.append({"name": "id", "type": kind})
    plan = make_plan(bodies, attributes=attributes)
    salt = rng.choice(SALTS)
    if plan_share is not None or salt is not None:
        lift = ActivationLift(target_pct=5, kpi="k", holdout_share=plan_share or 0.5, window_days=7,
                              holdout_salt=salt)  # fmt: skip
        metrics = plan.success_metrics.model_copy(update={"activation_lift": lift})
        plan = plan.model_copy(update={"success_metrics": metrics})
        if plan_share is None:  # a salt alone: only the profiles' own shares hold out
            plan = plan.model_copy(update={"profiles": tuple(
                p.model_copy(update={"holdout_share": p.holdout_share or 0.5}) for p in plan.profiles
            )})  # fmt: skip
    records = [{**record, "id": _fresh_id(rng, kind, i)} for i, record in enumerate(case.records)]
    return plan, records, kind


def check_holdouts(
    rng: random.Random, case: Case, connections: dict[str, Any], counter: Counter[str]
) -> str | None:
    """None when every engine agrees with Python; otherwise what differs."""
    made = holdout_plan(rng, case)
    if made is None:
        return None
    plan, records, kind = made
    counter[f"holdout_id:{kind}"] += 1
    python = simulate(plan, records, case.now, explain=False)
    expected: Counter[tuple[str | None, str, bool | None]] = Counter()
    for verdict in python.records:
        if verdict.winner is None:
            continue
        expected[(canonical_id(verdict.record_id), verdict.winner, verdict.in_holdout)] += 1
        if verdict.in_holdout is None:
            counter["holdout:winner_without_holdout"] += 1
        elif canonical_id(verdict.record_id) is None:
            counter["holdout:id_without_canonical_text"] += 1
        else:
            counter["holdout:held" if verdict.in_holdout else "holdout:treatment"] += 1
    kinds = dict(case.kinds)
    for dialect, connection in connections.items():
        if dialect == "databricks":  # a SparkTarget: the rows become a typed temporary view
            connection.load(case.zone, kinds, records, view=HOLDOUT_TABLE, id_kind=kind)
            counter["holdout:on_spark"] += 1
        else:
            load_table(connection, dialect, HOLDOUT_TABLE, kinds, records, id_kind=kind)
        sql = compile_sql(plan, dialect, table=HOLDOUT_TABLE, now=case.now)
        rows = connection.execute(sql).fetchall()
        got = Counter((canonical_id(row[0]), row[1], row[2]) for row in rows)
        if got != expected:
            return f"holdout ({kind} ids) {dialect} {sorted(got.items(), key=str)} vs python " + str(
                sorted(expected.items(), key=str)
            )
    return None

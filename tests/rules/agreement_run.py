"""One agreement run: generated cases evaluated by every target, compared record by record.

Targets: the Python column evaluator and the per-record explainer, the compiled SQL on DuckDB, on
PostgreSQL and on Spark (each in a random session time zone; Spark on every Nth case), and the
compiled JSON Logic in panzi-json-logic and in json-logic-js under Node. Any difference fails with
the seed, the case number and the case.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import Counter
from typing import Any

from json_logic import jsonLogic

from personalization_engine.errors import InputError
from personalization_engine.model.common import duration_seconds
from personalization_engine.rules import compile_jsonlogic, jsonlogic_data, simulate
from personalization_engine.rules.instants import JSONLOGIC_EXACT, MICROS, epoch_us, in_jsonlogic_range
from personalization_engine.rules.records import coerce_value

from .agreement_gen import WINDOWS, Case, Generator, instant_us
from .agreement_holdout import check_holdouts
from .engines import OPERATIONS, load_table, node_results, spark_verdicts, sql_verdicts
from .helpers import make_plan

MAX_WINDOWS = {"876600h", "36525d", "5217w"}
NODE_BATCH = 150
_JSONLOGIC_REFUSALS = ("inherits", "outside the instants JSON Logic", "beyond 2**53")


def same_score(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


class Mismatch(AssertionError):
    pass


class AgreementRun:
    def __init__(
        self, seed: int, duck: Any, pg: Any, node_runner: str | None, spark: Any = None, spark_every: int = 1
    ) -> None:
        self.seed = seed
        self.spark = spark  # a SparkTarget, run on every spark_every-th case (Spark plans each query)
        self.spark_every = spark_every
        self.generator = Generator(random.Random(seed))
        # Holdouts draw from their own source, so adding them left every other case of a seed as it was.
        self.holdout_rng = random.Random(seed ^ 0x401D)
        self.duck = duck
        self.pg = pg
        self.node_runner = node_runner
        self.counter: Counter[str] = Counter()
        self.node_jobs: list[tuple[str, dict[str, Any], list[dict[str, Any]], list[Any]]] = []

    def fail(self, where: str, case: Case, detail: str) -> None:
        shown = json.dumps(
            {"now": case.now.isoformat(), "zone": case.zone, "table": case.table, "kinds": case.kinds,
             "profiles": case.bodies}, default=str
        )  # fmt: skip
        raise Mismatch(f"AGREEMENT_SEED={self.seed} {where}: {detail}\ncase: {shown}")

    def run(self, cases_wanted: int) -> Counter[str]:
        number = 0
        while self.counter["cases"] < cases_wanted:
            case = self.generator.case()
            try:
                self.one(number, case)
            except Mismatch:
                raise
            except Exception as exc:  # an engine error is a disagreement too: report it with the seed
                self.fail(f"case {number}", case, f"{type(exc).__name__}: {exc}")
            number += 1
            if len(self.node_jobs) >= NODE_BATCH:
                self.flush_node()
        self.flush_node()
        self.counter["plans"] = number
        return self.counter

    def one(self, number: int, case: Case) -> None:
        plan = make_plan(case.bodies, attributes=[{"name": n, "type": k} for n, k in case.kinds.items()])
        count_hard_cases(self.counter, case)
        python = simulate(plan, case.records, case.now)
        sql = {}
        for dialect, connection in (("duckdb", self.duck), ("postgres", self.pg)):
            if connection is None:
                continue
            connection.execute(f"SET TimeZone = '{case.zone}'")
            load_table(connection, dialect, case.table, case.kinds, case.records)
            sql[dialect] = sql_verdicts(connection, dialect, plan, case.table, case.now)
        if self.spark is not None and number % self.spark_every == 0:
            self.spark.load(case.zone, case.kinds, case.records)
            sql["spark"] = spark_verdicts(self.spark, plan, case.now)
            self.counter["spark:plans"] += 1
        logic, datas = self.jsonlogic(number, plan, case)
        expected_node: list[Any] = []
        for index, record in enumerate(case.records):
            verdict = python.records[index]
            where = f"case {number} record {index} {json.dumps(record, default=str)}"
            explained = {e.profile_id: e for e in verdict.explanations or []}
            for body in case.bodies:
                pid = body["id"]
                self.counter["cases"] += 1
                mine = (pid in verdict.eligible, pid in verdict.suppressed, pid in verdict.members)
                score = verdict.scores.get(pid)
                e = explained[pid]
                if (e.eligible, e.suppressed, e.member) != mine:
                    self.fail(where, case, f"{pid}: explainer {e} vs column evaluator {mine}")
                for dialect, (verdicts, _) in sql.items():
                    theirs = verdicts[(index, pid)]
                    if theirs[:3] != mine or not same_score(theirs[3], score):
                        self.fail(where, case, f"{pid}: {dialect} {theirs} vs python {mine} {score}")
            for dialect, (_, winners) in sql.items():
                if winners.get(index) != verdict.winner:
                    self.fail(
                        where, case, f"winner: {dialect} {winners.get(index)} vs python {verdict.winner}"
                    )
            self.counter["winner:some" if verdict.winner else "winner:none"] += 1
            data = datas[index] if datas is not None else None
            if logic is None or data is None:
                continue
            self.check_panzi(where, case, logic, data, verdict)
            expected_node.append((where, data, verdict))
        if logic is not None and expected_node:
            self.node_jobs.append((f"case {number}", logic, [d for _, d, _ in expected_node], expected_node))
        connections = {d: c for d, c in (("duckdb", self.duck), ("postgres", self.pg)) if c is not None}
        if self.spark is not None and number % self.spark_every == 0:
            connections["databricks"] = self.spark
        difference = check_holdouts(self.holdout_rng, case, connections, self.counter)
        if difference:
            self.fail(f"case {number}", case, difference)

    def jsonlogic(self, number: int, plan, case: Case) -> tuple[Any, list[Any] | None]:
        try:
            logic = compile_jsonlogic(plan)
        except InputError as exc:
            if not any(reason in str(exc) for reason in _JSONLOGIC_REFUSALS):
                self.fail(f"case {number}", case, f"JSON Logic refused for no documented reason: {exc}")
            self.counter["jsonlogic:refused_plan"] += 1
            return None, None
        datas: list[Any] = []
        for record in case.records:
            try:
                datas.append(jsonlogic_data(plan, record, case.now))
            except InputError as exc:
                if "cannot be evaluated exactly" not in str(exc) and "evaluation time" not in str(exc):
                    raise
                self.counter["jsonlogic:refused_record"] += 1
                datas.append(None)
        return logic, datas

    def check_panzi(self, where: str, case: Case, logic: Any, data: Any, verdict: Any) -> None:
        for body in case.bodies:
            pid = body["id"]
            compiled = logic["profiles"][pid]
            got = (
                bool(jsonLogic(compiled["eligibility"], data, OPERATIONS)),
                bool(jsonLogic(compiled["suppression"], data, OPERATIONS)),
                bool(jsonLogic(compiled["member"], data, OPERATIONS)),
            )
            mine = (pid in verdict.eligible, pid in verdict.suppressed, pid in verdict.members)
            score = None if compiled["score"] is None else jsonLogic(compiled["score"], data, OPERATIONS)
            if got != mine or not same_score(score, verdict.scores.get(pid)):
                self.fail(
                    where, case, f"{pid}: panzi {got} {score} vs python {mine} {verdict.scores.get(pid)}"
                )
        winner = jsonLogic(logic["winner"], data, OPERATIONS) if logic["winner"] is not None else None
        if winner != verdict.winner:
            self.fail(where, case, f"winner: panzi {winner} vs python {verdict.winner}")

    def flush_node(self) -> None:
        if self.node_runner is None or not self.node_jobs:
            self.node_jobs = []
            return
        jobs = [{"logic": logic, "data": data} for _, logic, data, _ in self.node_jobs]
        results = node_results(self.node_runner, jobs)
        for (label, _, _, expected), answers in zip(self.node_jobs, results, strict=True):
            for (where, _, verdict), answer in zip(expected, answers, strict=True):
                for pid, (eligible, suppressed, member, score) in answer["profiles"].items():
                    mine = (pid in verdict.eligible, pid in verdict.suppressed, pid in verdict.members)
                    if (eligible, suppressed, member) != mine or not same_score(
                        score, verdict.scores.get(pid)
                    ):
                        theirs = (eligible, suppressed, member, score)
                        raise Mismatch(
                            f"AGREEMENT_SEED={self.seed} {label} {where}: {pid}: json-logic-js {theirs} "
                            f"vs python {mine} {verdict.scores.get(pid)}"
                        )
                if answer["winner"] != verdict.winner:
                    raise Mismatch(
                        f"AGREEMENT_SEED={self.seed} {label} {where}: winner json-logic-js "
                        f"{answer['winner']} vs python {verdict.winner}"
                    )
                self.counter["jsonlogic_js:records"] += 1
        self.node_jobs = []


def _walk(node: dict[str, Any], ancestors: tuple[str, ...] = ()):
    for key in ("all", "any"):
        if key in node:
            for child in node[key]:
                yield from _walk(child, (*ancestors, key))
            return
    if "not" in node:
        yield from _walk(node["not"], (*ancestors, "not"))
        return
    yield node, ancestors


def _coerced(case: Case, record: dict[str, Any], attr: str) -> Any:
    return coerce_value(record.get(attr), case.kinds.get(attr), index=0, attr=attr)


def count_hard_cases(counter: Counter[str], case: Case) -> None:
    """Count the families and boundaries the case exercises; the test fails when one never occurs."""
    now = epoch_us(case.now)
    counter.update(case.families)
    counter.update(f"kind:{kind}" for kind in case.kinds.values())
    if case.zone != "UTC":
        counter["session:non_utc"] += 1
    priorities = Counter(body["priority"] for body in case.bodies)
    if any(count > 1 for count in priorities.values()):
        counter["priority:tie"] += 1
    for record in case.records:
        for attr, kind in case.kinds.items():
            value = _coerced(case, record, attr)
            if kind == "integer" and value is not None and abs(value) > JSONLOGIC_EXACT:
                counter["value:integer_beyond_2**53"] += 1
            if kind in ("timestamp", "date") and value is not None and not in_jsonlogic_range(value):
                counter["value:time_outside_1685_2254"] += 1
    for body in case.bodies:
        counter[f"mode:{body['eligible_by']}"] += 1
        trees = [("eligibility", body.get("eligibility")), ("suppression", body.get("suppression"))]
        scoring = body.get("scoring")
        if scoring:
            trees += [("scoring", c["when"]) for c in scoring["conditions"]]
            decay = scoring.get("decay")
            if decay:
                counter[f"decay:{decay['kind']}"] += 1
                window = duration_seconds(decay["window"]) * MICROS
                for record in case.records:
                    value = _coerced(case, record, decay["attr"])
                    if value is None:
                        counter["null:decay"] += 1
                    elif value == now - window:
                        counter[f"boundary:{decay['kind']}"] += 1
        for position, root in trees:
            if root is None:
                continue
            for leaf, ancestors in _walk(root):
                counter[f"op:{leaf['op']}"] += 1
                if leaf.get("value") in WINDOWS and leaf["value"] in MAX_WINDOWS:
                    counter["window:max"] += 1
                for outer, inner in itertools.pairwise(ancestors):
                    if inner in ("all", "any") and outer != inner:
                        counter[f"nested:{outer}>{inner}"] += 1
                for record in case.records:
                    value = _coerced(case, record, leaf["attr"])
                    if value is None:
                        counter[f"null:{position}"] += 1
                        counter.update(f"null:{ancestor}" for ancestor in set(ancestors))
                    elif leaf["op"] in ("within_last", "not_within_last"):
                        if value == now - duration_seconds(leaf["value"]) * MICROS:
                            counter["boundary:window"] += 1
                    elif leaf["op"] in ("before", "after") and value == instant_us(leaf["value"]):
                        counter["boundary:instant"] += 1

"""One LaunchDarkly agreement run: the rules agreement test's hostile plans and records, each plan given
activations on a channel (some through LaunchDarkly, some with consent gates), exported, loaded by the
SDK's file data source, and every record evaluated there and by our evaluator at the export instant.

For every profile the export carries, segment membership (read through a probe flag per segment) must
equal our verdict; the channel flag must return the winning profile, or "none" when the winner is not
activated there through LaunchDarkly or its gate does not hold. Refusals must name a documented reason.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from personalization_engine.errors import InputError
from personalization_engine.export.launchdarkly import export_launchdarkly, flag_key, segment_key
from personalization_engine.export.launchdarkly_clauses import context_attributes
from personalization_engine.model import Plan
from personalization_engine.rules import simulate
from personalization_engine.rules.instants import epoch_us
from personalization_engine.rules.records import coerce_value

from ..rules.agreement_gen import Generator, instant_us
from ..rules.helpers import make_plan
from .holdout_context import allows, random_holdout, set_holdout, with_holdout, with_holdout_shares
from .launchdarkly_sdk import context, ld_client, segment_member

CHANNEL = "in-app"
# Records added to each generated plan's 8 to 24 (the SDK client's start-up is the cost per plan).
EXTRA_RECORDS = 48
CONSENT = "consent_ok"
GATES = [(), (CONSENT,), (f"not {CONSENT}",), ("Consent Mode ad_storage",)]
# Why a profile or activation may be refused; anything else is a bug.
DOCUMENTED = (
    "half-life",
    "negative weight",
    "to more than",
    "outside 1691-04-08 to 2248-09-26",
    "beyond 2**53",
    "names no boolean attribute",
)
# Names LaunchDarkly reserves (here: `name` when not a string) refuse a generated plan as a whole.
RESERVED_TEXT = "a LaunchDarkly context carries"


class Mismatch(AssertionError):
    pass


@dataclass
class LdCase:
    plan: Plan
    records: list[dict[str, Any]]
    now: datetime
    routes: dict[str, tuple[str, tuple[str, ...]]]  # profile -> (target, gate) on CHANNEL
    shown: str


class LdAgreementRun:
    def __init__(self, seed: int, folder: Path) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.generator = Generator(self.rng)
        self.folder = folder
        self.counter: Counter[str] = Counter()

    def fail(self, number: int, case: LdCase | None, detail: str) -> None:
        shown = case.shown if case is not None else ""
        raise Mismatch(f"EXPORT_AGREEMENT_SEED={self.seed} case {number}: {detail}\ncase: {shown}")

    def run(self, wanted: int) -> Counter[str]:
        number = 0
        while self.counter["cases"] < wanted:
            case = self.case()
            try:
                self.one(number, case)
            except Mismatch:
                raise
            except Exception as exc:  # an engine error is a disagreement too: report it with the seed
                self.fail(number, case, f"{type(exc).__name__}: {exc}")
            number += 1
        self.counter["plans"] = number
        return self.counter

    def case(self) -> LdCase:
        generated = self.generator.case()
        kinds = {**generated.kinds, CONSENT: "boolean"}
        routes = {}
        for body in generated.bodies:
            target = self.rng.choice(["launchdarkly"] * 4 + ["growthbook", None])
            if target is not None:
                routes[body["id"]] = (target, self.rng.choice(GATES))
        plan = make_plan(
            with_holdout_shares(generated.bodies, self.rng),
            attributes=[{"name": n, "type": k} for n, k in kinds.items()],
        )
        data = plan.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["channels"] = ["web", CHANNEL]
        data["activations"] = [
            {"profile_id": pid, "channel": CHANNEL, "export_target": target, "consent_gate": list(gate)}
            for pid, (target, gate) in routes.items()
        ]
        plan = Plan.model_validate(data)
        records = generated.records + self.more_records(generated)
        records = [{**r, CONSENT: self.rng.choice([True, False, None])} for r in records]
        profile_ids = [body["id"] for body in generated.bodies]
        records = [set_holdout(r, random_holdout(self.rng, profile_ids)) for r in records]
        shown = json.dumps(
            {
                "now": generated.now.isoformat(),
                "kinds": kinds,
                "profiles": generated.bodies,
                "routes": routes,
            },
            default=str,
        )
        return LdCase(plan, records, generated.now, routes, shown)

    def more_records(self, generated: Any) -> list[dict[str, Any]]:
        """More records on the same boundaries (the generator's value(), given the plan's windows and
        instants), so that the SDK client's start-up is shared by more cases."""
        windows: list[str] = []
        instants: list[int] = []
        for body in generated.bodies:
            scoring = body.get("scoring") or {}
            roots = [body.get("eligibility"), body.get("suppression")]
            roots += [c["when"] for c in scoring.get("conditions", [])]
            if scoring.get("decay"):
                windows.append(scoring["decay"]["window"])
            for leaf in (leaf for root in roots if root for leaf in _leaves(root)):
                if leaf["op"] in ("within_last", "not_within_last"):
                    windows.append(leaf["value"])
                elif leaf["op"] in ("before", "after"):
                    instants.append(instant_us(leaf["value"]))
        drawn = {"now_us": epoch_us(generated.now), "windows": windows, "instants": instants}
        kinds = generated.kinds
        return [
            {name: self.generator.value(kind, drawn) for name, kind in kinds.items()}
            for _ in range(EXTRA_RECORDS)
        ]

    def one(self, number: int, case: LdCase) -> None:
        try:
            bundle = export_launchdarkly(case.plan, exported_at=case.now, draft=False)
        except InputError as exc:
            if RESERVED_TEXT not in str(exc):
                raise
            self.counter["refused_plan:reserved_name"] += 1
            return
        for refusal in bundle.refusals:
            if not any(reason in refusal.reason or reason in refusal.condition for reason in DOCUMENTED):
                self.fail(number, case, f"refused for no documented reason: {refusal}")
            self.counter["refused:" + refusal.reason.split(",")[0][:40]] += 1
        text = bundle.files["flags.json"]
        if bundle.cutoffs:
            self.counter["cutoffs"] += 1
        self.count_clauses(json.loads(text))
        if not bundle.profiles:
            self.counter["plans:nothing_carried"] += 1
            return  # no case to compare, and the SDK client's start-up is the cost of a plan
        self.count_hard_cases(case, bundle)
        python = simulate(case.plan, case.records, case.now, explain=False)
        keys = [segment_key(pid) for pid in bundle.profiles]
        has_flag = flag_key(CHANNEL) in json.loads(text)["flags"]
        with ld_client(self.folder, text, keys) as client:
            for index, record in enumerate(case.records):
                ctx = context(f"record-{index}", with_holdout(context_attributes(case.plan, record), record))
                verdict = python.records[index]
                for pid in bundle.profiles:
                    self.counter["cases"] += 1
                    theirs = segment_member(client, segment_key(pid), ctx)
                    if theirs != (pid in verdict.members):
                        self.fail(number, case, f"record {index} {record}: {pid} LD {theirs} vs ours")
                expected = self.expected_variation(case, bundle.profiles, verdict.members, record)
                got = client.variation(flag_key(CHANNEL), ctx, "absent")
                if not has_flag:
                    expected = "absent"
                if got != expected:
                    self.fail(number, case, f"record {index} {record}: flag {got!r} vs expected {expected!r}")
                self.counter[f"variation:{'none' if got in ('none', 'absent') else 'profile'}"] += 1

    def expected_variation(
        self, case: LdCase, carried: tuple[str, ...], members: list[str], record: dict[str, Any]
    ) -> str:
        """The first carried member by priority gets its id when routed here through LaunchDarkly with
        its consent gate holding (an unmapped gate is refused: no id), else "none"."""
        winner = next((pid for pid in members if pid in carried), None)  # members are by priority
        if winner is None or case.routes.get(winner, (None,))[0] != "launchdarkly":
            return "none"
        gate = case.routes[winner][1]
        consent = coerce_value(record.get(CONSENT), "boolean", index=0, attr=CONSENT)
        holds = {(): True, (CONSENT,): consent is True, (f"not {CONSENT}",): consent is False}
        if not holds.get(gate, False):
            return "none"
        if not allows(case.plan, winner, record):
            self.counter["variation:held_out_or_unsynced"] += 1
            return "none"
        return winner

    def count_hard_cases(self, case: LdCase, bundle: Any) -> None:
        """Operators, nulls and frozen-window edges in the profiles the export carries, and ties."""
        carried = [p for p in case.plan.profiles if p.id in bundle.profiles]
        kinds = {a.name: a.type for a in case.plan.attributes}
        for body in carried:
            roots = [body.eligibility, body.suppression]
            roots += [w.when for w in body.scoring.conditions] if body.scoring else []
            for root in roots:
                for leaf in _leaves(root.model_dump(by_alias=True)) if root is not None else []:
                    self.counter[f"op:{leaf['op']}"] += 1
                    if any(record.get(leaf["attr"]) is None for record in case.records):
                        self.counter["null:record_value"] += 1
        if len({p.priority for p in carried}) < len(carried):
            self.counter["priority:tie"] += 1
        edges = {epoch_us(c.cutoff) for c in bundle.cutoffs}
        for record in case.records:
            for attr, value in record.items():
                if kinds.get(attr) in ("timestamp", "date") and value is not None:
                    coerced = coerce_value(value, kinds[attr], index=0, attr=attr)
                    if coerced in edges:
                        self.counter["boundary:frozen_window"] += 1

    def count_clauses(self, document: dict[str, Any]) -> None:
        for segment in document["segments"].values():
            for rule in segment["rules"]:
                for c in rule["clauses"]:
                    self.counter[f"clause:{c['op']}{':negate' if c['negate'] else ''}"] += 1


def _leaves(node: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("all", "any"):
        if key in node:
            return [leaf for child in node[key] for leaf in _leaves(child)]
    if "not" in node:
        return _leaves(node["not"])
    return [node]

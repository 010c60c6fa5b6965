"""One GrowthBook agreement run: the rules agreement test's hostile plans and records (agreement_gen),
each plan given activations through GrowthBook (with consent gates true, negated, unmapped or none)
and through another target, exported at the case's evaluation time and evaluated by GrowthBook's
Python SDK. Every carried profile's saved group and every channel feature must agree with our
evaluator for every record; any difference fails with the seed, the case number and the case.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import replace
from typing import Any

from personalization_engine.export.common import ExportBundle
from personalization_engine.export.growthbook import export_growthbook
from personalization_engine.model import Plan

from ..rules.agreement_gen import Case, Generator
from ..rules.agreement_run import count_hard_cases
from ..rules.helpers import NOW
from .growthbook_check import expected, observed
from .growthbook_engine import Engine
from .holdout_context import random_holdout, set_holdout, with_holdout_shares

CONSENT = "gb_consent"  # not a name the generator draws
GATES: list[tuple[str, ...]] = [(), (CONSENT,), (f"not {CONSENT}",), ("asked by phone",)]
CONSENT_VALUES: list[Any] = [True, False, None, "true", 0]
REFUSAL_KINDS = {
    "exponential decay": "half_life",
    "negative weight": "negative weight",
    "alternatives": "score_terms",
    "1700-2199": "time_range",
    "2**53": "integer_2**53",
    "consent gate": "gate",
}


class Mismatch(AssertionError):
    pass


def plan_for(case: Case, rng: random.Random) -> Plan:
    """The case's profiles with a consent attribute and activations on two channels."""
    attributes = [{"name": n, "type": k} for n, k in case.kinds.items()]
    activations = []
    for body in case.bodies:
        for channel in ("web", "email"):
            roll = rng.random()
            if roll < 0.6:
                gate = rng.choice(GATES)
                activations.append(
                    {"profile_id": body["id"], "channel": channel, "export_target": "growthbook",
                     "consent_gate": list(gate)}
                )  # fmt: skip
            elif roll < 0.8:
                activations.append({"profile_id": body["id"], "channel": channel, "export_target": "flagd"})
    return Plan.model_validate(
        {
            "plan_id": "plan-20261124T090000Z",
            "revision": 1,
            "created_at": NOW,
            "updated_at": NOW,
            "initiative": "GrowthBook agreement",
            "channels": ["web", "email"],
            "attributes": [*attributes, {"name": CONSENT, "type": "boolean"}],
            "profiles": with_holdout_shares(case.bodies, rng),
            "activations": activations,
        }
    )


class GrowthBookAgreement:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.generator = Generator(random.Random(seed))
        self.rng = random.Random(seed + 1)  # activations and consent values: a stream of their own
        self.counter: Counter[str] = Counter()

    def fail(self, where: str, case: Case, plan: Plan | None, detail: str) -> None:
        shown = {"now": case.now.isoformat(), "kinds": case.kinds, "profiles": case.bodies}
        if plan is not None:
            shown["activations"] = [a.model_dump(mode="json", exclude_none=True) for a in plan.activations]
        raise Mismatch(
            f"EXPORT_AGREEMENT_SEED={self.seed} {where}: {detail}\ncase: {json.dumps(shown, default=str)}"
        )

    def run(self, cases_wanted: int) -> Counter[str]:
        number = 0
        while self.counter["cases"] < cases_wanted:
            case = self.generator.case()
            profile_ids = [body["id"] for body in case.bodies]
            for record in case.records:
                record[CONSENT] = self.rng.choice(CONSENT_VALUES)
                set_holdout(record, random_holdout(self.rng, profile_ids))
            plan = None
            try:
                plan = plan_for(case, self.rng)
                self.one(number, case, plan)
            except Mismatch:
                raise
            except Exception as exc:  # an SDK or export error is a disagreement too: report the seed
                self.fail(f"case {number}", case, plan, f"{type(exc).__name__}: {exc}")
            number += 1
        self.counter["plans"] = number
        return self.counter

    def one(self, number: int, case: Case, plan: Plan) -> None:
        bundle = export_growthbook(plan, exported_at=case.now, draft=False)
        self.count_export(case, bundle)
        payload = json.loads(bundle.files["payload.json"])
        engine = Engine(payload)
        try:
            for mine in expected(plan, bundle, case.records, case.now):
                theirs = observed(engine, mine)
                if (theirs.members, theirs.values) != (mine.members, mine.values):
                    record = json.dumps(case.records[mine.index], default=str)
                    self.fail(
                        f"case {number} record {mine.index} {record}",
                        case,
                        plan,
                        f"GrowthBook {theirs.members} {theirs.values} vs ours {mine.members} {mine.values}; "
                        f"context {mine.attributes}; payload {json.dumps(payload)}",
                    )
                self.count_record(mine.members, mine.values)
        finally:
            engine.close()

    def count_export(self, case: Case, bundle: ExportBundle) -> None:
        carried = [body for body in case.bodies if body["id"] in bundle.profiles]
        count_hard_cases(self.counter, replace(case, bodies=carried))
        self.counter["cases"] += len(carried) * len(case.records)
        self.counter["cutoffs"] += len(bundle.cutoffs)
        for refusal in bundle.refusals:
            text = refusal.reason + " " + refusal.pointer
            kind = next((k for key, k in REFUSAL_KINDS.items() if key in text), "other")
            self.counter[f"refused:{kind}"] += 1

    def count_record(self, members: dict[str, bool], values: dict[str, str]) -> None:
        self.counter.update("member" if m else "not_member" for m in members.values())
        self.counter.update("channel:none" if v == "none" else "channel:profile" for v in values.values())
        if any(members.values()) and all(v == "none" for v in values.values()):
            self.counter["member_but_none"] += 1

"""One flagd agreement run: hostile generated plans (tests/rules/agreement_gen.py) exported to flagd,
every record evaluated by the flagd provider (Python SDK, file mode) and by @openfeature/flagd-core,
and compared with our evaluator (rules.simulate) at the same whole-second instant.

Per record: every carried profile's membership, through a probe flag per profile that targets its
membership (its `$ref` when shared), and every channel flag's variant exactly as exported. The
expected variant walks the carried profiles in priority order: the first member gets its profile when
activated on that channel through flagd with its consent gate holding, otherwise "none".
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from personalization_engine.errors import InputError
from personalization_engine.export.flagd import export_flagd, flag_key
from personalization_engine.export.flagd_logic import flagd_context, member_logic
from personalization_engine.model import Plan
from personalization_engine.rules import simulate
from personalization_engine.rules.program import attribute_kinds, prepare_plan

from ..rules.agreement_gen import Case, Generator
from ..rules.agreement_run import count_hard_cases
from ..rules.helpers import NOW
from .flagd_engines import PROBE_PREFIX, flags_validator, probe_file
from .holdout_context import allows, random_holdout, set_holdout, with_holdout, with_holdout_shares

CONSENT = "consent_given"
CHANNELS = ["web", "in-app"]
GATES: list[list[str]] = [
    [],
    [CONSENT],
    [f"not {CONSENT}"],
    ["Consent Mode ad_storage (no attribute records it)"],
]
# jsonschema takes about half a second on a generated file (flagd's targeting schema nests oneOf in
# anyOf), so it checks the first plans only; flagd-core validates every file strictly when it loads it.
SCHEMA_CHECKS = 12
# The export refuses a whole plan only for these documented reasons (flagd_logic.check_carriable).
HARD_ERRORS = ("JavaScript object inherits", "outside the instants flagd", "beyond 2**53")


class WholeSecondGenerator(Generator):
    """The rules generator with evaluation times floored to whole seconds, as `$flagd.timestamp`
    holds them, so that the records it places on window edges sit on flagd's edges too."""

    def now(self, families: set[str]) -> datetime:
        moment = super().now(families)
        return moment - timedelta(microseconds=moment.microsecond)


@dataclass
class Pending:
    """One exported plan waiting for the engines' answers."""

    label: str
    case: Case
    plan: Plan
    records: list[dict[str, Any]]
    expected: list[list[tuple[str, str]]]  # per record: (probe or flag key, expected answer)


class FlagdAgreement:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.generator = WholeSecondGenerator(self.rng)
        self.validator = flags_validator()
        self.counter: Counter[str] = Counter()
        self.pending: list[Pending] = []
        self.jobs: list[dict[str, Any]] = []

    def fail(self, pending: Pending | None, case: Case, detail: str) -> None:
        activations = [] if pending is None else [a.model_dump(mode="json") for a in pending.plan.activations]
        shown = json.dumps(
            {
                "now": case.now.isoformat(),
                "kinds": case.kinds,
                "profiles": case.bodies,
                "activations": activations,
            },
            default=str,
        )
        raise AssertionError(f"EXPORT_AGREEMENT_SEED={self.seed} {detail}\ncase: {shown}")

    def build(self, cases_wanted: int) -> None:
        """Generate and export plans until the record x profile cases reach `cases_wanted`."""
        number = 0
        while self.counter["cases"] < cases_wanted:
            case = self.generator.case()
            self.one(f"case {number}", case)
            number += 1
        self.counter["plans"] = number

    def plan_for(self, case: Case) -> Plan:
        attributes = [{"name": n, "type": k} for n, k in case.kinds.items()]
        attributes.append({"name": CONSENT, "type": "boolean"})
        activations = []
        for body in case.bodies:
            for channel in CHANNELS:
                roll = self.rng.random()
                if roll < 0.25:
                    continue
                target = "launchdarkly" if roll < 0.35 else "flagd"
                gate = GATES[self.rng.randrange(len(GATES))]
                activations.append(
                    {
                        "profile_id": body["id"],
                        "channel": channel,
                        "export_target": target,
                        "consent_gate": gate,
                    }
                )
        return Plan.model_validate(
            {"plan_id": "plan-20261124T090000Z", "revision": 1, "created_at": NOW, "updated_at": NOW,
             "initiative": "flagd agreement", "channels": CHANNELS, "attributes": attributes,
             "profiles": with_holdout_shares(case.bodies, self.rng), "activations": activations}
        )  # fmt: skip

    def one(self, label: str, case: Case) -> None:
        profile_ids = [body["id"] for body in case.bodies]
        for record in case.records:
            record[CONSENT] = self.rng.choice([True, False, None, "true"])
            set_holdout(record, random_holdout(self.rng, profile_ids))
        plan = self.plan_for(case)
        try:
            bundle = export_flagd(plan, exported_at=case.now, draft=False)
        except InputError as exc:
            if not any(reason in str(exc) for reason in HARD_ERRORS):
                self.fail(None, case, f"{label}: flagd refused the plan for no documented reason: {exc}")
            self.counter["flagd:refused_plan"] += 1
            return
        exported = bundle.files["flags.flagd.json"]
        if self.counter["flagd:schema_checked"] < SCHEMA_CHECKS:
            errors = [e.message for e in self.validator.iter_errors(json.loads(exported))]
            if errors:
                self.fail(
                    None, case, f"{label}: the export does not validate against flagd's schema: {errors[:3]}"
                )
            self.counter["flagd:schema_checked"] += 1
        self.counter["flagd:refused_profile"] += sum(1 for r in bundle.refusals if r.channel is None)
        contexts, kept = [], []
        for index, record in enumerate(case.records):
            try:
                contexts.append(with_holdout(flagd_context(plan, record, index=index), record))
                kept.append(record)
            except InputError:
                self.counter["flagd:refused_record"] += 1
        if not kept:
            return
        # the families count only where flagd's engines see them: exported plans, records it holds
        count_hard_cases(
            self.counter, Case(case.kinds, case.bodies, kept, case.now, case.zone, case.table, case.families)
        )
        shared = json.loads(exported)["$evaluators"]
        self.counter["flagd:shared"] += sum(1 for p in bundle.profiles if f"member-{p}" in shared)
        self.counter["flagd:inline"] += sum(1 for p in bundle.profiles if f"member-{p}" not in shared)
        self.queue(label, case, plan, bundle.profiles, exported, kept, contexts)

    def queue(
        self,
        label: str,
        case: Case,
        plan: Plan,
        carried: tuple[str, ...],
        exported: str,
        records: list[dict[str, Any]],
        contexts: list[dict[str, Any]],
    ) -> None:
        program = prepare_plan(plan, case.now)
        numbers = frozenset(n for n, k in attribute_kinds(plan).items() if k == "number")
        profiles = {p.id: p for p in program.profiles}
        memberships = {pid: member_logic(profiles[pid], numbers) for pid in carried}
        flags = sorted(key for key in json.loads(exported)["flags"])
        verdicts = simulate(plan, records, case.now, explain=False).records
        expected: list[list[tuple[str, str]]] = []
        evaluations: list[list[Any]] = []
        for record, context, verdict in zip(records, contexts, verdicts, strict=True):
            answers = []
            for pid in carried:
                answers.append((PROBE_PREFIX + pid, "in" if pid in verdict.members else "out"))
                evaluations.append(["probe", PROBE_PREFIX + pid, context])
                self.counter["cases"] += 1
            for key in flags:
                answers.append((key, self.expected_variant(plan, key, carried, verdict.members, record)))
                evaluations.append(["flags", key, context])
                self.counter["flag:" + ("none" if answers[-1][1] == "none" else "profile")] += 1
            expected.append(answers)
        self.pending.append(Pending(label, case, plan, records, expected))
        files = {"flags": exported, "probe": probe_file(exported, memberships)}
        self.jobs.append({"files": files, "now": int(case.now.timestamp()), "evaluations": evaluations})

    def expected_variant(
        self, plan: Plan, key: str, carried: tuple[str, ...], members: list[str], record: dict[str, Any]
    ) -> str:
        order = [p.id for _, p in sorted(enumerate(plan.profiles), key=lambda e: (e[1].priority, e[0]))]
        winner = next((pid for pid in order if pid in carried and pid in members), None)
        for activation in plan.activations:
            here = activation.profile_id == winner and flag_key(activation.channel) == key
            if here and activation.export_target == "flagd" and gate_holds(activation.consent_gate, record):
                if not allows(plan, winner, record):
                    self.counter["flag:held_out_or_unsynced"] += 1
                    return "none"
                return winner
        return "none"

    def check(self, engine: str, results: list[list[Any]]) -> None:
        for pending, job, answers in zip(self.pending, self.jobs, results, strict=True):
            flat = [item for per_record in pending.expected for item in per_record]
            for (key, wanted), (value, reason, error), evaluation in zip(
                flat, answers, job["evaluations"], strict=True
            ):
                if error is not None or value != wanted:
                    gave = f"{engine} gave {key} = {value!r} ({reason}, {error})"
                    context = json.dumps(evaluation[2])
                    self.fail(
                        pending, pending.case, f"{pending.label}: {gave}, ours {wanted!r}, context {context}"
                    )
            self.counter[f"{engine}:plans"] += 1


def gate_holds(gate: tuple[str, ...], record: dict[str, Any]) -> bool:
    """The consent gate as the plan states it: every entry's attribute recorded true (false for 'not
    X'); a missing choice never passes. An entry naming no attribute refuses the activation."""
    value = record.get(CONSENT)
    value = {"true": True}.get(value, value) if isinstance(value, str) else value
    for entry in gate:
        if entry == CONSENT and value is not True:
            return False
        if entry == f"not {CONSENT}" and value is not False:
            return False
        if entry not in (CONSENT, f"not {CONSENT}"):
            return False
    return True

"""Our evaluator's verdicts next to GrowthBook's, record by record, for one exported plan.

Ours: `simulate` at the export instant gives each record's memberships; the channel's expected value
walks the carried profiles in priority order (a refused profile is left out of the feature): the
first one the record is a member of gives its id when it is activated on the channel through
GrowthBook and its consent gate is TRUE, otherwise "none". GrowthBook's: the SDK evaluating the
exported payload with the record's context (export/growthbook_conditions.context).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from personalization_engine.export.common import ExportBundle, channel_lineups
from personalization_engine.export.growthbook import feature_key, group_id
from personalization_engine.export.growthbook_conditions import context
from personalization_engine.model import Plan
from personalization_engine.rules import simulate
from personalization_engine.rules.evaluate import truth
from personalization_engine.rules.program import attribute_kinds, prepare_plan
from personalization_engine.rules.records import coerce_value

from .growthbook_engine import Engine
from .holdout_context import allows, with_holdout


@dataclass
class Verdict:
    index: int
    attributes: dict[str, Any]
    members: dict[str, bool]  # saved group id -> member
    values: dict[str, str]  # feature key -> value


def coerced(plan: Plan, record: dict[str, Any], index: int) -> dict[str, Any]:
    kinds = attribute_kinds(plan)
    return {
        name: coerce_value(record.get(name), kind, index=index, attr=name) for name, kind in kinds.items()
    }


def expected(plan: Plan, bundle: ExportBundle, records: list[dict[str, Any]], at: datetime) -> list[Verdict]:
    result = simulate(plan, records, at, explain=False)
    lineups, _ = channel_lineups(plan, "growthbook", prepare_plan(plan, at))
    kinds = attribute_kinds(plan)
    verdicts = []
    for index, record in enumerate(records):
        values = coerced(plan, record, index)
        members = set(result.records[index].members)
        channel = {}
        for lineup in lineups:
            value = "none"
            for slot in lineup.slots:
                if slot.profile.id not in bundle.profiles or slot.profile.id not in members:
                    continue
                consented = slot.gate is None or truth(slot.gate, values) is True
                if slot.activation is not None and consented and allows(plan, slot.profile.id, record):
                    value = slot.profile.id
                break
            channel[feature_key(lineup.channel)] = value
        verdicts.append(
            Verdict(
                index,
                with_holdout(context(values, kinds), record),
                {group_id(pid): pid in members for pid in bundle.profiles},
                channel,
            )
        )
    return verdicts


def observed(engine: Engine, verdict: Verdict) -> Verdict:
    members, values = engine.evaluate(verdict.attributes)
    return Verdict(verdict.index, verdict.attributes, members, values)

"""The dbt export's unit tests (the plan's scenarios) and exposures (its dbt activations)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..rules.holdout import in_holdout
from ..rules.instants import as_utc, from_epoch_us
from ..rules.records import coerce_value
from ..rules.sql_names import unique_output_names
from .dbt_yaml import dump, has_jinja, text

if TYPE_CHECKING:
    from ..model import Scenario
    from .dbt import Layout


def unit_tests_yml(layout: Layout) -> tuple[str, list[str]]:
    """One unit test of pe_verdicts per scenario: its record as staging rows, its own time as pe_now,
    and the winner it expects. Returns the file and notes on the scenarios left out."""
    notes: list[str] = []
    tests = []
    names = unique_output_names([s.id for s in layout.plan.scenarios])
    for scenario in layout.plan.scenarios:
        built = _unit_test(layout, scenario, names[scenario.id][0].removeprefix("member_"))
        if isinstance(built, str):
            notes.append(f"scenario {scenario.id} has no unit test: {built}")
        else:
            tests.append(built)
    if not tests:
        return layout.header("#") + "# The plan has no scenario that dbt can test.\n", notes
    return layout.header("#") + dump({"unit_tests": tests}), notes


def _unit_test(layout: Layout, scenario: Scenario, name: str) -> dict[str, Any] | str:
    if scenario.as_of is None:
        return "it has no as_of time to evaluate it at"
    values: dict[str, Any] = {}
    kinds = {a.name: a.type for a in layout.plan.attributes}
    wanted = {layout.id_attr, *(a for _, attrs in layout.sources.values() for a in attrs)}
    for attr, raw in scenario.record.items():
        if attr not in wanted:
            continue  # no rule reads it
        try:
            value = _fixture_value(coerce_value(raw, kinds.get(attr), index=0, attr=attr), kinds.get(attr))
        except InputError as exc:
            return f"its record does not type-check ({exc})"
        if isinstance(value, str) and has_jinja(value):
            return f"{attr}'s value holds a Jinja delimiter, which dbt would render in a fixture"
        values[attr] = value
    key = values.get(layout.id_attr)
    given = []
    for source_id, (_, attrs) in layout.sources.items():
        row = {layout.id_attr: key, **{a: values[a] for a in attrs if a in values}}
        given.append(
            {"input": f"ref('{layout.staging(source_id)}')", "rows": [row] if key is not None else []}
        )
    # A record without an id is in no model: dbt cannot key it (README, Notes).
    expect = [_expected_row(layout, key, scenario.expected_profile)] if key is not None else []
    return {
        "name": f"pe_scenario_{name}",
        "description": text(f"Scenario {scenario.id}: {scenario.description or ''}"),
        "model": "pe_verdicts",
        "overrides": {"vars": {"pe_now": as_utc(scenario.as_of).isoformat()}},
        "given": given,
        "expect": {"rows": expect},
    }


def _expected_row(layout: Layout, key: Any, winner: str | None) -> dict[str, Any]:
    """The scenario's winner, and whether the record is held out of it (the same hash as the SQL)."""
    share = (layout.holdouts or {}).get(winner) if winner is not None else None
    held = share is not None and winner is not None and in_holdout(layout.salt, winner, key, share)
    return {
        layout.id_attr: key,
        "winner": winner,
        "in_holdout": held,
        "holdout_profile": winner if held else None,
    }


def _fixture_value(value: Any, kind: str | None) -> Any:
    """A coerced record value as a fixture cell: instants as ISO text in UTC (a date as its day)."""
    if value is None or kind not in ("timestamp", "date"):
        return value
    moment = from_epoch_us(value)
    if moment is None:
        raise InputError(f"instant {value} is outside the years 1 to 9999", field="scenarios")
    return moment.date().isoformat() if kind == "date" else moment.isoformat(sep=" ")


def exposures_yml(layout: Layout) -> str:
    from .dbt import channel_model

    plan = layout.plan
    owners = {p.id: p.owner for p in plan.profiles}
    exposures = []
    for lineup in layout.lineups:
        for slot in lineup.activated:
            activation = slot.activation
            assert activation is not None
            safe = f"{layout.profiles[activation.profile_id]}_{lineup.channel.replace('-', '_')}"
            gate = ", ".join(activation.consent_gate) or "none"
            exposures.append(
                {
                    "name": f"pe_activation_{safe}",
                    "label": text(f"{activation.profile_id} on {lineup.channel}", 100),
                    "type": "application",
                    "owner": {
                        "name": text(activation.owner or owners.get(activation.profile_id) or "unassigned")
                    },
                    "description": text(
                        f"Profile {activation.profile_id} on {lineup.channel} via "
                        f"{activation.destination or 'an unnamed destination'}; consent gate: {gate}."
                    ),
                    "depends_on": [f"ref('{channel_model(lineup.channel)}')"],
                    "config": {
                        "meta": {
                            "plan_id": plan.plan_id,
                            "revision": plan.revision,
                            "profile_id": activation.profile_id,
                            "channel": lineup.channel,
                            "destination": text(activation.destination or ""),
                            "sync_mode": activation.sync_mode,
                            "match_keys": list(activation.match_keys),
                        }
                    },
                }
            )
    return layout.header("#") + dump({"version": 2, "exposures": exposures})

"""The dbt export's sources.yml, schema.yml and README.md (see dbt.py for the layout)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model.common import duration_seconds
from ..rules.sql_names import fold, identifier
from .dbt_yaml import dump, text

if TYPE_CHECKING:
    from .dbt import Layout

# The column each source table's load time is in, for `dbt source freshness`: rename it in
# sources.yml to your loader's (e.g. _fivetran_synced, _airbyte_extracted_at).
LOADED_AT = "_loaded_at"
_PERIODS = (("day", 86400), ("hour", 3600), ("minute", 60))


def period(seconds: int) -> dict[str, Any]:
    """A dbt freshness period: the largest whole unit, rounded up to whole minutes."""
    seconds = max(60, -(-seconds // 60) * 60)
    for name, size in _PERIODS:
        if seconds % size == 0:
            return {"count": seconds // size, "period": name}
    raise AssertionError("unreachable: minutes divide every rounded value")


def freshness(slas: list[str]) -> dict[str, Any] | None:
    """error_after: the strictest freshness SLA of the source's attributes (the oldest data a consumer
    accepts); warn_after: half of it, as early warning, when that is shorter."""
    if not slas:
        return None
    strictest = min(duration_seconds(s) for s in slas)
    error = period(strictest)
    warn = period(max(60, (strictest // 2) // 60 * 60))
    if (warn["count"], warn["period"]) == (error["count"], error["period"]):
        return {"error_after": error}
    return {"warn_after": warn, "error_after": error}


def sources_yml(layout: Layout) -> str:
    plan = layout.plan
    attributes = {a.name: a for a in plan.attributes}
    data_sources = {s.id: s for s in plan.data_sources}
    sources = []
    for source_id, (name, attrs) in layout.sources.items():
        source = data_sources[source_id]
        columns = [layout.id_attr, *attrs]
        slas = [attributes[a].freshness_sla for a in columns if attributes[a].source_id == source_id]
        config: dict[str, Any] = {
            "loaded_at_field": LOADED_AT,
            "meta": {
                "data_source": source_id,
                "system": text(source.system),
                "owner": text(source.owner or ""),
            },
        }
        found = freshness([s for s in slas if s])
        if found:
            config["freshness"] = found
        sources.append(
            {
                "name": name,
                "description": text(f"Data source {source_id} ({source.system}). {source.description}"),
                "config": config,
                "tables": [
                    {
                        "name": "records",
                        "description": text(
                            f"One row per {layout.id_attr}; point schema and identifier at the real table."
                        ),
                        "columns": [
                            {"name": a, "description": text(_column_text(attributes[a]))} for a in columns
                        ],
                    }
                ],
            }
        )
    return layout.header("#") + dump({"version": 2, "sources": sources})


def _column_text(attribute: Any) -> str:
    sla = f" Freshness SLA {attribute.freshness_sla}." if attribute.freshness_sla else ""
    return f"{attribute.type or 'untyped'}.{sla} {attribute.description}"


def _id_column(layout: Layout) -> dict[str, Any]:
    """Quoted, as the models create it: an id named like a built-in (`user` in PostgreSQL) would
    otherwise test the built-in."""
    name = fold(layout.id_attr, layout.dialect)
    return {"name": name, "quote": True, "data_tests": ["unique", "not_null"]}


def _accepted(values: list[str]) -> dict[str, Any]:
    return {"accepted_values": {"arguments": {"values": values}}}


def _holdout_columns(layout: Layout, ids: list[str], winner_column: str = "winner") -> list[dict[str, Any]]:
    """in_holdout is never NULL, and FALSE wherever the winner has no holdout; holdout_profile names
    only profiles that have one."""
    held = [pid for pid in ids if pid in (layout.holdouts or {})]
    only_false: dict[str, Any] = {"arguments": {"values": [False], "quote": False}}
    if held:
        column = identifier(winner_column, layout.dialect).sql(dialect=layout.dialect)
        listed = ", ".join(f"'{pid}'" for pid in held)
        only_false["config"] = {"where": f"{column} is null or {column} not in ({listed})"}
    return [
        {"name": "in_holdout", "data_tests": ["not_null", {"accepted_values": only_false}]},
        {"name": "holdout_profile", **({"data_tests": [_accepted(held)]} if held else {})},
    ]


def schema_yml(layout: Layout) -> str:
    from .dbt import channel_model

    plan = layout.plan
    ids = [p.id for p in sorted(plan.profiles, key=lambda p: p.priority)]
    models: list[dict[str, Any]] = [
        {"name": layout.staging(s), "description": text(f"Data source {s}, one row per id."),
         "columns": [_id_column(layout)]}
        for s in layout.sources
    ]  # fmt: skip
    models.append(
        {
            "name": "pe_verdicts",
            "description": "Every id with each profile's membership and score, the winner by priority, "
            "and per channel the profile activated there.",
            "columns": [
                _id_column(layout),
                {"name": "winner", "data_tests": [_accepted(ids)]},
                *_holdout_columns(layout, ids),
            ],
        }
    )
    for profile in plan.profiles:
        models.append(
            {
                "name": layout.profile_model(profile.id),
                "description": text(f"Members of {profile.id} ({profile.name}): eligible, not suppressed."),
                "columns": [_id_column(layout), {"name": "score"}],
            }
        )
    models.append(
        {
            "name": "pe_winner",
            "description": "Each member's winning profile (lowest priority number), whether the member "
            "is in its holdout, and the profile held out of (holdout_profile: sync it to flag systems "
            "as the context attribute pe_holdout).",
            "columns": [
                _id_column(layout),
                {"name": "profile_id", "data_tests": ["not_null", _accepted(ids)]},
                *_holdout_columns(layout, ids, winner_column="profile_id"),
            ],
        }
    )
    for lineup in layout.lineups:
        activated = [s.profile.id for s in lineup.activated]
        models.append(
            {
                "name": channel_model(lineup.channel),
                "description": text(
                    f"Ids activated on {lineup.channel} through dbt: the winner, when it is activated "
                    "there and its consent gate holds."
                ),
                "columns": [
                    _id_column(layout),
                    {"name": "profile_id", "data_tests": ["not_null", _accepted(activated)]},
                ],
            }
        )
    return layout.header("#") + dump({"version": 2, "models": models})


def readme(layout: Layout, notes: list[str]) -> str:
    plan = layout.plan
    draft = "\n**DRAFT**: exported from a revision that is not final.\n" if layout.draft else ""
    listed = "\n".join(f"- {text(n)}" for n in notes) or "- none"
    return f"""# dbt models for {plan.plan_id} revision {plan.revision}
{draft}
Generated by personalization-engine (`plans export --to dbt`, dialect {layout.dialect}). Re-export
rather than edit: the plan is the source.

## Install
1. Copy this folder into your dbt project's models path (e.g. `models/personalization/`).
2. In `sources.yml`, point each source's `schema` and each table's `identifier` at the real table:
   one row per `{layout.id_attr}` (the record id: the first match key of the activations naming
   dbt), a column per attribute, and a `{LOADED_AT}` load-time column (rename it to your loader's).
3. `dbt build --select path:models/personalization` builds the models and runs the data tests and
   the unit tests (the plan's scenarios); `dbt source freshness` checks the freshness SLAs.

## Evaluation time
Time windows are evaluated at the dbt variable `pe_now` (an ISO 8601 instant with its offset, e.g.
`--vars '{{pe_now: "2026-11-24T09:00:00Z"}}'`), by default the run's start time. Every model of a run
uses the same instant; each unit test sets its scenario's own time.

## Models
- `pe_verdicts`: every id, each profile's membership and score, `winner`, and per channel the profile
  activated there.
- `pe_profile_<id>`: a profile's members (eligible and not suppressed) with their score.
- `pe_winner`: each member's winning profile by priority, `in_holdout` (the member is in that
  profile's holdout) and `holdout_profile` (that profile when held out, else NULL).
- `pe_channel_<channel>`: the ids to activate on that channel through dbt (the winner, when it is
  activated there, its consent gate holds and the member is not in its holdout), with the profile;
  the exposures depend on these.

## Holdouts
{_holdout_text(layout)}

## Notes
{listed}
"""


def _holdout_text(layout: Layout) -> str:
    shares = layout.holdouts or {}
    if not shares:
        return "The plan holds nobody out: `in_holdout` is false and `holdout_profile` NULL everywhere.\n"
    listed = ", ".join(f"`{pid}` {share:g}" for pid, share in shares.items())
    return f"""Held out per profile (share of its winners): {listed}. Assignment is md5 over the salt
`{text(layout.salt)}`, the profile id and the `{layout.id_attr}` text (docs/audience.md, "Holdout
assignment"), so it equals `plans size`'s. A member held out of its winning profile is in no channel
model: it does not fall through to a lower-priority profile, so the comparison stays clean. Flag
systems cannot compute md5: sync `pe_winner.holdout_profile` to them as the context attribute
`pe_holdout` (empty when NULL).
"""

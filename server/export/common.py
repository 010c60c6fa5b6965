"""What every export target shares: the bundle it returns, each channel's profiles in priority order
with their consent gates, and the ledger texts of what a target refused or froze (docs/exports.md).
A profile's membership in negation normal form is in nnf.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..commit_message import one_line
from ..errors import InputError
from ..model import Activation, Plan
from ..model.ledger import ExportCutoff, ExportRefusal
from ..rules.gates import gate_entries, gate_rule
from ..rules.holdout import profile_shares
from ..rules.instants import from_epoch_us
from ..rules.program import Leaf, Node, PreparedProfile, Program, prepare, prepare_plan
from ..rules.render import describe_condition

# A frozen window stays acceptable this long when neither the activation nor the profile names a
# latency SLA (docs/exports.md).
DEFAULT_ALLOWED_AGE = "1d"
# Scoring expands into one alternative per minimal set of conditions that reaches the threshold;
# past this many, the profile is refused for clause-based targets rather than exported unreadably.
MAX_SCORE_TERMS = 64


@dataclass(frozen=True)
class ExportBundle:
    """A target's files (relative posix path -> text) and what it could not carry."""

    target: str
    files: dict[str, str]
    profiles: tuple[str, ...]
    refusals: tuple[ExportRefusal, ...] = ()
    cutoffs: tuple[ExportCutoff, ...] = ()
    # "profile_id/channel" -> the file that carries that activation.
    carriers: dict[str, str] = field(default_factory=dict)
    cutoff_at: datetime | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Slot:
    """One profile in a channel's priority order. `activation` is None when the profile is not
    activated on the channel through this target, so a member gets "none" there."""

    profile: PreparedProfile
    activation: Activation | None = None
    activation_index: int | None = None
    gate: Node | None = None


@dataclass(frozen=True)
class ChannelLineup:
    channel: str
    slots: tuple[Slot, ...]

    @property
    def activated(self) -> list[Slot]:
        return [s for s in self.slots if s.activation is not None]


def prepared(plan: Plan, at: datetime) -> Program:
    """The plan's profiles prepared at `at` (window operands become absolute cutoffs as of `at`)."""
    return prepare_plan(plan, at)


def channel_lineups(
    plan: Plan, target: str, program: Program
) -> tuple[list[ChannelLineup], list[ExportRefusal]]:
    """For each channel with an activation naming `target`: every profile in priority order, each
    with its activation and consent gate. An activation whose gate has an entry that names no boolean
    attribute is refused (its members get "none"): a destination cannot check that consent."""
    refusals: list[ExportRefusal] = []
    chosen: dict[tuple[str, str], tuple[int, Activation, Node | None]] = {}
    for index, activation in enumerate(plan.activations):
        if activation.export_target != target:
            continue
        unmapped = [e for e in gate_entries(plan, activation, index) if e.condition is None]
        if unmapped:
            refusals += [
                ExportRefusal(
                    profile_id=activation.profile_id,
                    channel=activation.channel,
                    pointer=e.pointer,
                    condition=short(e.text),
                    reason="the consent gate entry names no boolean attribute, so the destination "
                    "cannot check it; name the attribute that records this choice",
                )
                for e in unmapped
            ]
            continue
        rule = gate_rule(plan, activation, index)
        gate = None if rule is None else prepare(rule, f"/activations/{index}/consent_gate", 0, {})
        chosen[(activation.profile_id, activation.channel)] = (index, activation, gate)
    # A channel missing from plan.channels (an error finding, exported with --allow-errors) goes last.
    order = {channel: i for i, channel in enumerate(plan.channels)}
    channels = sorted({channel for _, channel in chosen}, key=lambda c: (order.get(c, len(order)), c))
    known = {profile.id for profile in program.profiles}
    refusals += [
        ExportRefusal(
            profile_id=profile_id,
            channel=channel,  # type: ignore[arg-type]  (a Channel: it comes from an activation)
            pointer=f"/activations/{index}/profile_id",
            condition=short(profile_id),
            reason="the activation names no profile of the plan, so no export can carry it",
        )
        for (profile_id, channel), (index, _, _) in chosen.items()
        if profile_id not in known
    ]
    lineups = []
    for channel in channels:
        slots = []
        for profile in program.by_priority:
            found = chosen.get((profile.id, channel))
            if found is None:
                slots.append(Slot(profile))
            else:
                index, activation, gate = found
                slots.append(Slot(profile, activation, index, gate))
        lineups.append(ChannelLineup(channel, tuple(slots)))
    return lineups, refusals


# Flag systems cannot compute the holdout's md5, so the warehouse syncs it as this context attribute:
# the id of the profile the person is held out of (dbt's pe_winner.holdout_profile), "" for none.
HOLDOUT_ATTRIBUTE = "pe_holdout"


def holdout_profiles(plan: Plan) -> frozenset[str]:
    """The profiles with a holdout, whose flag rules read pe_holdout; refuses an inventory attribute
    of that name, which the synced value would overwrite."""
    held = frozenset(profile_shares(plan))
    for index, attribute in enumerate(plan.attributes):
        if held and attribute.name == HOLDOUT_ATTRIBUTE:
            raise InputError(
                f"attribute {HOLDOUT_ATTRIBUTE!r} collides with the context attribute flag exports read "
                "the synced holdout from (docs/exports.md, Holdouts); rename the attribute",
                field=f"/attributes/{index}/name",
            )
    return held


def treated(pe_holdout: object, profile_id: str) -> bool:
    """What every flag export serves a member of a holdout profile: the treatment only when pe_holdout
    is a string (synced: "" or another profile's id) other than the profile's id. Absent or not a
    string fails closed to the control, like an unmapped consent gate."""
    return isinstance(pe_holdout, str) and pe_holdout != profile_id


def holdout_readme(held: frozenset[str]) -> str:
    """The README section every flag export appends: what pe_holdout is and what its absence means."""
    if not held:
        return ""
    listed = ", ".join(f"`{pid}`" for pid in sorted(held))
    return f"""
## Holdouts
Profiles with a holdout: {listed}. Flag systems hash with their own functions and cannot reproduce
the plan's md5 assignment, so the warehouse computes it and you sync it into the evaluation context
as the string attribute `{HOLDOUT_ATTRIBUTE}`: the dbt export's `pe_winner.holdout_profile` (the id
of the profile the person is held out of), or `""` when the person is held out of nothing.

- `{HOLDOUT_ATTRIBUTE}` equal to the winning profile's id: the default variant (control). The person
  does not fall through to a lower-priority profile, so the comparison stays clean.
- `{HOLDOUT_ATTRIBUTE}` `""` or another profile's id: the profile as usual.
- `{HOLDOUT_ATTRIBUTE}` absent, null or not a string, for a member of a holdout profile: the default
  variant. This fails closed, like an unmapped consent gate: an unsynced holdout never leaks the
  treatment into the holdout. Sync `""` for everyone not held out.
"""


def short(text: str) -> str:
    """Text for a ledger entry: one line of at most 200 characters (rule values may hold anything)."""
    return one_line(text)[:200] or "?"


def refusal(profile: PreparedProfile, pointer: str, condition: str, reason: str) -> ExportRefusal:
    return ExportRefusal(
        profile_id=profile.id, pointer=pointer, condition=short(condition), reason=short(reason)
    )


def window_cutoff(profile: PreparedProfile, leaf: Leaf) -> ExportCutoff:
    """A window condition frozen at the export time: `leaf` was prepared at that time, so its operand
    is the window's start in epoch microseconds. It stays acceptable for the profile's latency SLA."""
    cutoff = from_epoch_us(leaf.operand)
    if cutoff is None:
        raise InputError(
            f"{describe_condition(leaf.source)} reaches before the year 1 at the export time; "
            "use a shorter window",
            field=leaf.pointer,
        )
    return ExportCutoff(
        profile_id=profile.id,
        pointer=leaf.pointer,
        condition=short(describe_condition(leaf.source)),
        cutoff=cutoff,
        allowed_age=profile.profile.latency_sla or DEFAULT_ALLOWED_AGE,
    )

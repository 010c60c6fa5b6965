"""What the flagd export can carry, and each profile's membership as flagd's JSON Logic.

flagd evaluates standard JSON Logic plus a few operations of its own, with the evaluation time under
`$flagd.timestamp` in whole Unix seconds; the context cannot override it. So times here are epoch
seconds (a fraction for sub-second instants), windows start at `$flagd.timestamp - seconds`, and no
custom operation is used: half-life decay needs `pow`, which flagd lacks, and is refused.

Numbers are doubles in flagd's engines. Epoch seconds with six decimals stay exact and in order
only while the seconds are below 2**33 in magnitude, so instants are accepted from 1698 to 2241
(narrower than the microsecond JSON Logic target's 1685-2254), and integers within +-2**53.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from ..errors import InputError
from ..model import Plan
from ..model.ledger import ExportRefusal
from ..rules.compile_jsonlogic import PROTOTYPE_NAMES, profile_logic
from ..rules.instants import JSONLOGIC_EXACT, epoch_us, show_instant
from ..rules.jsonlogic_terms import LogicClock
from ..rules.program import Leaf, Node, PreparedProfile, leaves
from ..rules.records import coerce_value

FLAGD_CLOCK = LogicClock(now_var="$flagd.timestamp", per_second=1)
FLAGD_FIRST_US = epoch_us(datetime(1698, 1, 1, tzinfo=timezone.utc))
FLAGD_END_US = epoch_us(datetime(2242, 1, 1, tzinfo=timezone.utc))
FLAGD_TIME_RANGE = "1698-01-01 to 2241-12-31 (epoch seconds with six decimals are exact in a double there)"
# Attributes a flag context may carry: a flag system is not approved for personal data.
CONTEXT_PII = ("none", "pseudonymous")
_RESERVED_PREFIX = "$flagd"


def in_flagd_range(micros: int) -> bool:
    return FLAGD_FIRST_US <= micros < FLAGD_END_US


def half_life_refusal(profile: PreparedProfile) -> ExportRefusal | None:
    """A profile whose membership depends on a half-life score cannot be expressed (no pow)."""
    decay = profile.decay
    if decay is None or decay.kind != "half_life" or not profile.uses_score:
        return None
    scoring = profile.profile.scoring
    window = scoring.decay.window if scoring is not None and scoring.decay is not None else "?"
    return ExportRefusal(
        profile_id=profile.id,
        pointer=f"/profiles/{profile.index}/scoring/decay",
        condition=f"{decay.attr} half-life {window}"[:200],
        reason="exponential decay needs pow, which flagd's JSON Logic does not have (and custom "
        "operations are not allowed); use a lookback decay for this target",
    )


def member_logic(profile: PreparedProfile, numbers: frozenset[str]) -> dict[str, Any]:
    """eligible AND NOT suppressed as flagd JSON Logic; a score that does not count is left out."""
    if not profile.uses_score:
        profile = replace(profile, weights=(), threshold=None, decay=None)
    return profile_logic(profile, numbers, custom_operations=False, clock=FLAGD_CLOCK)["member"]


def substitution_safe(logic: Any) -> bool:
    """True when the logic survives flagd's textual `$ref` substitution in every implementation, so
    it can be shared under `$evaluators`. The Python provider passes the evaluator's JSON (ASCII
    escaped) as an re.sub replacement, which interprets backslashes; JavaScript's replaceAll
    interprets `$&`, `$'`, `$$`; the Go daemon's regexp.ReplaceAllString expands `$name`. So shared
    logic holds no backslash, no non-ASCII text and no `$` but the time variable, which the file
    writes as `\\u0024flagd.timestamp` (see escape_time_var). Other logic is written inline."""
    text = json.dumps(logic)
    return "\\" not in text and "$" not in text.replace(f'"{FLAGD_CLOCK.now_var}"', "")


def escape_time_var(text: str) -> str:
    """The file with every `"$flagd.timestamp"` written `"\\u0024flagd.timestamp"`: the same JSON
    string, but no `$` for the Go daemon's evaluator substitution to expand as a group name."""
    return text.replace(f'"{FLAGD_CLOCK.now_var}"', '"\\u0024' + FLAGD_CLOCK.now_var[1:] + '"')


# --- what a flag context cannot carry -------------------------------------------------------------
def check_carriable(plan: Plan, profiles: Iterable[PreparedProfile], gates: Iterable[Node]) -> None:
    """Refuse the whole export when a carried profile or consent gate uses an attribute a flagd
    context cannot hold, or a constant flagd cannot compare exactly; the error names the pointer."""
    kinds = {a.name: a.type for a in plan.attributes}
    pii = {a.name: a.pii_class for a in plan.attributes}
    for profile in profiles:
        trees = [t for t in (profile.eligibility, profile.suppression) if t is not None]
        trees += [when for when, _ in profile.weights]
        for leaf in (leaf for tree in trees for leaf in leaves(tree)):
            _check_leaf(leaf, kinds, pii)
        if profile.decay is not None and profile.uses_score:
            where = f"/profiles/{profile.index}/scoring/decay/attr"
            _check_name(profile.decay.attr, where, pii)
    for gate in gates:
        for leaf in leaves(gate):
            _check_name(leaf.attr, leaf.pointer, pii)


def _check_leaf(leaf: Leaf, kinds: dict[str, str | None], pii: dict[str, str]) -> None:
    _check_name(leaf.attr, f"{leaf.pointer}/attr", pii)
    if leaf.op in ("before", "after") and not in_flagd_range(leaf.operand):
        raise InputError(
            f"{leaf.op} {show_instant(leaf.operand)} is outside the instants flagd compares exactly, "
            f"{FLAGD_TIME_RANGE}; use an instant inside that range for this target",
            field=f"{leaf.pointer}/value",
        )
    if kinds.get(leaf.attr) == "integer":
        values = leaf.operand if isinstance(leaf.operand, (frozenset, tuple)) else (leaf.operand,)
        for value in values:
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > JSONLOGIC_EXACT:
                raise InputError(
                    f"{value} is beyond 2**53, where flagd's engines (doubles) no longer tell integers "
                    "apart; use a constant within +-2**53 for this target",
                    field=f"{leaf.pointer}/value",
                )


def _check_name(attr: str, pointer: str, pii: dict[str, str]) -> None:
    if attr in PROTOTYPE_NAMES:
        raise InputError(
            f"attribute {attr!r} is a property every JavaScript object inherits, so flagd's JavaScript "
            "engines would read it from Object.prototype when the context lacks it; rename the "
            "attribute to export it to flagd",
            field=pointer,
        )
    if attr.startswith(_RESERVED_PREFIX):
        raise InputError(
            f"attribute {attr!r} begins with '$flagd', which flagd reserves for its own properties "
            "($flagd.timestamp, $flagd.flagKey); rename the attribute to export it to flagd",
            field=pointer,
        )
    pii_class = pii.get(attr, "none")
    if pii_class not in CONTEXT_PII:
        raise InputError(
            f"attribute {attr!r} is {pii_class} personal data, and a flag evaluation context must not "
            f"carry it; a flagd export may use attributes of pii_class {' or '.join(CONTEXT_PII)} only "
            "(use a pseudonymous or derived attribute instead)",
            field=pointer,
        )


# --- the evaluation context -----------------------------------------------------------------------
def flagd_context(plan: Plan, record: dict[str, Any], *, index: int = 0) -> dict[str, Any]:
    """A record as the flagd evaluation context the export expects: attributes by name, nulls
    omitted, timestamps and dates as Unix epoch seconds (a date is its midnight UTC). A time outside
    the exact range or an integer past 2**53 is refused, naming the attribute."""
    kinds = {a.name: a.type for a in plan.attributes}
    context: dict[str, Any] = {}
    for key, raw in record.items():
        value = coerce_value(raw, kinds.get(key), index=index, attr=key)
        if value is None:
            continue
        kind = kinds.get(key)
        if kind in ("timestamp", "date"):
            if not in_flagd_range(value):
                raise InputError(
                    f"{key} = {raw!r} is outside the instants flagd compares exactly, {FLAGD_TIME_RANGE}",
                    field=f"records/{index}/{key}",
                )
            value = FLAGD_CLOCK.instant(value)
        elif kind == "integer" and not isinstance(value, bool) and abs(value) > JSONLOGIC_EXACT:
            raise InputError(
                f"{key} = {raw!r} is beyond 2**53, which flagd's engines (doubles) cannot hold exactly",
                field=f"records/{index}/{key}",
            )
        context[key] = value
    return context

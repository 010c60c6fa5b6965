"""Consent-flow QA: append one reported run of an activation's qa_flow to the ledger.

A pure function, plan in and plan out, run by the write pipeline with the write's time, e.g.
`engine.apply(plan_id, "governance", lambda p, now: record_qa_result(p, ..., now=now), timed=True)`.
Bad input raises InputError naming the field, so nothing is written.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import get_args
from urllib.parse import urlsplit

from ..checks.escalation import next_id
from ..commit_message import one_line
from ..errors import InputError
from ..model import Activation, Plan
from ..model.common import MAX_LONG_TEXT, MAX_SHORT_TEXT
from ..model.ledger import QaResult
from ..rules.instants import parse_instant
from .ledger import _choice, _text

# Consent and opt-in flows run in a browser or an app; email, ads and sales have no flow to click.
QA_CHANNELS = ("web", "in-app")
OUTCOMES: tuple[str, ...] = get_args(QaResult.model_fields["outcome"].annotation)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def record_qa_result(
    plan: Plan,
    *,
    profile_id: str,
    channel: str,
    url: str | None,
    outcome: str,
    ran_at: str,
    artefact_sha256: str,
    artefact: str | None = None,
    note: str = "",
    actor: str,
    now: datetime,
) -> Plan:
    """Append a reported QA run of the activation's qa_flow; `url` None means the flow's own url."""
    activation = qa_activation(plan, profile_id, channel)
    assert activation.qa_flow is not None  # qa_activation refuses an activation without one
    flow_url = activation.qa_flow.url
    result = QaResult(
        id=next_id("qa", [r.id for r in plan.qa_results]),
        profile_id=activation.profile_id,
        channel=activation.channel,
        url=_same_origin(flow_url if url is None else url, flow_url),
        outcome=_choice(outcome, OUTCOMES, "outcome"),  # type: ignore[arg-type]
        ran_at=_ran_at(ran_at, now),
        artefact_sha256=_sha256(artefact_sha256),
        artefact=None if artefact is None else _text(artefact, "artefact", limit=MAX_SHORT_TEXT),
        note=_text(note, "note", limit=MAX_LONG_TEXT, required=False, multi_line=True),
        recorded_by=_text(one_line(actor), "actor", limit=MAX_SHORT_TEXT),
        recorded_at=now,
    )
    return plan.model_copy(update={"qa_results": (*plan.qa_results, result)})


def qa_activation(plan: Plan, profile_id: str, channel: str) -> Activation:
    """The web or in-app activation whose qa_flow a run checked, or InputError naming the field."""
    _choice(channel, QA_CHANNELS, "channel")
    with_flows = [f"{a.profile_id}/{a.channel}" for a in plan.activations if a.qa_flow is not None]
    activation = next(
        (a for a in plan.activations if a.profile_id == profile_id and a.channel == channel), None
    )
    if activation is None:
        raise InputError(
            f"no activation of profile {profile_id!r} on {channel}; activations with a qa_flow: "
            f"{', '.join(with_flows) or 'none'}",
            field="profile_id",
        )
    if activation.qa_flow is None:
        raise InputError(
            f"activation {profile_id}/{channel} has no qa_flow; record its qa_flow with map_activation first",
            field="profile_id",
        )
    return activation


def _ran_at(value: object, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise InputError(f"expected an ISO 8601 date-time text, got {type(value).__name__}", field="ran_at")
    example = "e.g. '2026-11-24T08:30:00Z'"
    at = parse_instant(value.strip())
    if not isinstance(at, datetime):
        raise InputError(
            f"{value[:80]!r} is not an ISO 8601 date-time with at most 6 fractional digits; {example}",
            field="ran_at",
        )
    if at.utcoffset() is None:
        raise InputError(f"{value!r} has no time zone; add Z or an offset, {example}", field="ran_at")
    if at > now:
        raise InputError(
            f"{value!r} is later than the time of this write ({now.isoformat()}); record runs that "
            "have happened",
            field="ran_at",
        )
    return at


def _sha256(value: object) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        shown = repr(value)[:80]
        raise InputError(f"{shown} is not a SHA-256: use 64 lower-case hex digits", field="artefact_sha256")
    return value


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL with a host, or None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def _same_origin(url: object, flow_url: str) -> str:
    url = _text(url, "url", limit=MAX_SHORT_TEXT)
    found = origin(url)
    if found is None:
        raise InputError(f"{url!r} is not an http or https URL with a host", field="url")
    expected = origin(flow_url)
    if found != expected:
        raise InputError(
            f"{url!r} is not on the qa_flow's origin; use a URL on the same scheme, host and port as "
            f"{flow_url!r}",
            field="url",
        )
    return url

"""`personalization-engine plans qa-result`: record one run of an activation's consent-flow QA.

With --artefact the command hashes the file itself (a trace or a screenshot inside the
workspace), so the recorded SHA-256 is of a file the person has, not a number typed in.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from ..core.qa import record_qa_result
from ..errors import InputError
from ..paths import confined_path
from .common import engine_for
from .edit_commands import _common_edit_flags, _report

_CHUNK = 1 << 20


def register(sub: argparse._SubParsersAction, make_parser) -> None:
    parser = make_parser(
        sub,
        "qa-result",
        "record a reported run of a web or in-app activation's consent-flow QA (its qa_flow), with "
        "the hash of the run's trace or screenshot",
        "personalization-engine plans qa-result PLAN_ID --profile new-trial-activation --channel web "
        "--outcome passed --ran-at 2026-11-24T08:30:00Z --artefact qa/trace.zip",
    )
    parser.add_argument("plan_id", metavar="PLAN_ID")
    parser.add_argument("--profile", required=True, dest="profile_id", help="the activation's profile id")
    parser.add_argument("--channel", required=True, help="web or in-app")
    parser.add_argument("--outcome", required=True, choices=["passed", "failed"])
    parser.add_argument("--ran-at", required=True, metavar="TIME", help="when it ran, ISO 8601 with zone")
    artefact = parser.add_mutually_exclusive_group(required=True)
    artefact.add_argument(
        "--artefact", metavar="FILE", help="the run's trace or screenshot inside the workspace; it is hashed"
    )
    artefact.add_argument(
        "--artefact-sha256", metavar="HEX", help="the artefact's SHA-256, when hashed elsewhere"
    )
    parser.add_argument("--url", help="the URL the run checked (default: the qa_flow's url)")
    parser.add_argument("--note", default="", help="what was seen")
    _common_edit_flags(parser, revision_required=False)
    parser.set_defaults(handler=cmd_qa_result)


def cmd_qa_result(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    name, digest = args.artefact, args.artefact_sha256
    if name is not None:
        path = confined_path(engine.ws.root, Path.cwd() / name, field="--artefact")
        digest = _sha256_of(path, name)
        name = path.relative_to(engine.ws.root.resolve()).as_posix()
    who = args.actor or engine.default_actor()

    def operation(plan, now):
        return record_qa_result(
            plan,
            profile_id=args.profile_id,
            channel=args.channel,
            url=args.url,
            outcome=args.outcome,
            ran_at=args.ran_at,
            artefact_sha256=digest,
            artefact=name,
            note=args.note,
            actor=who,
            now=now,
        )

    result = engine.apply(
        args.plan_id,
        "governance",
        operation,
        expected_revision=args.expected_revision,
        actor=who,
        timed=True,
    )
    return _report(args, result)


def _sha256_of(path: Path, given: str) -> str:
    if not path.exists():
        raise InputError(f"file {given!r} does not exist", field="--artefact")
    if not path.is_file():  # a folder, or a FIFO that would block the read
        raise InputError(f"{given!r} is not a file; name the trace or screenshot file", field="--artefact")
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {given!r}: {exc.strerror}", field="--artefact") from None
    return digest.hexdigest()

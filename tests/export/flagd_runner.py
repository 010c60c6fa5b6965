"""Evaluate exported flagd files through the OpenFeature Python SDK and the flagd provider's
in-process resolver in file mode (offline). Run by the .venv-flagd interpreter, not the main venv:
the provider needs protobuf 7, which dbt's pins exclude (tests/export/flagd-requirements.txt).

Protocol: JSON on stdin, {"jobs": [{"files": {name: text}, "now": epoch seconds, "evaluations":
[[file name, flag key, context], ...]}]}; JSON on stdout, {"versions": {...}, "results": [[[variant,
reason, error code], ...], ...]}, one list per job in the order of its evaluations.

The clock: the provider sets `$flagd.timestamp` to int(time.time()) inside
openfeature.contrib.tools.flagd.core.targeting.targeting, and a context cannot override it. The
runner replaces that module's `time` name with a clock that returns the job's `now`, so only flagd's
targeting sees the chosen instant (the file watcher keeps the real clock).
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from openfeature import api
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.evaluation_context import EvaluationContext

PINNED = {
    "openfeature-sdk": "0.10.0",
    "openfeature-provider-flagd": "0.6.1",
    "openfeature-flagd-core": "2.0.0",
    "panzi-json-logic": "1.0.1",
    "protobuf": "7.36.2",
}


class FixedClock:
    """Stands in for the `time` module in flagd's targeting module: time() is the job's instant."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now


CLOCK = FixedClock()


def check_versions() -> dict[str, str]:
    found = {name: version(name) for name in PINNED}
    wrong = {name: got for name, got in found.items() if got != PINNED[name]}
    if wrong:
        raise SystemExit(f"flagd runner: wrong versions {wrong}, expected {PINNED}; rebuild .venv-flagd")
    return found


def run_job(job: dict[str, Any], folder: Path, number: int) -> list[list[Any]]:
    clients = {}
    providers = []
    for name, text in job["files"].items():
        path = folder / f"job{number}-{name}.json"
        path.write_text(text, encoding="utf-8")
        provider = FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=str(path))
        domain = f"job{number}-{name}"
        api.set_provider_and_wait(provider, domain)
        providers.append(provider)
        clients[name] = api.get_client(domain)
    CLOCK.now = float(job["now"])
    answers = []
    try:
        for name, key, context in job["evaluations"]:
            details = clients[name].get_string_details(key, "default", EvaluationContext(attributes=context))
            error = None if details.error_code is None else f"{details.error_code}: {details.error_message}"
            answers.append([details.value, str(details.reason), error])
    finally:
        for provider in providers:
            provider.shutdown()
    return answers


def main() -> None:
    versions = check_versions()
    # the module, not the function of the same name its package re-exports
    flagd_targeting = importlib.import_module("openfeature.contrib.tools.flagd.core.targeting.targeting")
    assert flagd_targeting.time.time is not None and callable(flagd_targeting.targeting)
    flagd_targeting.time = CLOCK
    request = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as folder:
        results = [run_job(job, Path(folder), n) for n, job in enumerate(request["jobs"])]
    json.dump({"versions": versions, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()

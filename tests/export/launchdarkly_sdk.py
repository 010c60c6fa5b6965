"""LaunchDarkly's Python server SDK evaluating an export offline, under the network guard (so "no
network" is proven, not assumed)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from ldclient import Context, LDClient
from ldclient.config import Config
from ldclient.integrations import Files

from .network_guard import no_network

PROBE_PREFIX = "probe-"


def probes(segment_keys: list[str]) -> dict[str, Any]:
    """A flag per segment, true for its members: how a test reads segment membership through the SDK."""
    flags = {}
    for key in segment_keys:
        flags[PROBE_PREFIX + key] = {
            "key": PROBE_PREFIX + key,
            "on": True,
            "variations": [False, True],
            "offVariation": 0,
            "fallthrough": {"variation": 0},
            "rules": [{"id": "r", "variation": 1, "clauses": [
                {"attribute": "segmentMatch", "op": "segmentMatch", "values": [key], "negate": False}]}],
            "salt": key,
        }  # fmt: skip
    return {"flags": flags}


def same_in_yaml(text: str) -> bool:
    """The file data source parses with PyYAML when it is installed: it must read what JSON reads."""
    return yaml.safe_load(text) == json.loads(text)


@contextlib.contextmanager
def ld_client(folder: Path, flags_text: str, segment_keys: list[str]) -> Iterator[LDClient]:
    """An SDK client whose only data source is the exported file (plus probe flags), events off."""
    exported = folder / "flags.json"
    exported.write_text(flags_text, encoding="utf-8")
    probe_file = folder / "probes.json"
    probe_file.write_text(json.dumps(probes(segment_keys)), encoding="utf-8")
    config = Config(
        "sdk-key-unused-offline",
        update_processor_class=Files.new_data_source(paths=[str(exported), str(probe_file)]),
        send_events=False,
        diagnostic_opt_out=True,
    )
    client = LDClient(config=config, start_wait=5)
    try:
        assert client.is_initialized(), "the file data source did not load the export"
        yield client
    finally:
        client.close()


def context(key: str, attributes: dict[str, Any]) -> Context:
    builder = Context.builder(key).kind("user")
    for name, value in attributes.items():
        builder.set(name, value)
    built = builder.build()
    assert built.valid, built.error
    return built


def segment_member(client: LDClient, segment: str, ctx: Context) -> bool:
    return client.variation(PROBE_PREFIX + segment, ctx, None) is True


def sdk_verdicts(
    folder: Path, plan: Any, bundle: Any, records: list[dict[str, Any]], flag: str | None = None
) -> list[tuple[set[str], Any]]:
    """Per record: the profiles whose segment the SDK puts it in, and the flag's value ("absent" when
    the export has no such flag), all under the network guard."""
    from personalization_engine.export.launchdarkly import segment_key
    from personalization_engine.export.launchdarkly_clauses import context_attributes

    from .holdout_context import with_holdout

    keys = {pid: segment_key(pid) for pid in bundle.profiles}
    found = []
    text = bundle.files["flags.json"]
    with no_network() as attempts, ld_client(folder, text, list(keys.values())) as client:
        for index, record in enumerate(records):
            ctx = context(f"record-{index}", with_holdout(context_attributes(plan, record), record))
            members = {pid for pid, key in keys.items() if segment_member(client, key, ctx)}
            found.append((members, None if flag is None else client.variation(flag, ctx, "absent")))
    assert attempts == []
    return found

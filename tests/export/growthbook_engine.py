"""GrowthBook's own Python SDK (pinned 4.0.0) evaluating an exported payload, offline.

`offline` runs the network guard (network_guard.py) and fails the test on any attempt, so a test
proves the SDK fetched nothing. `Engine` loads a payload once, adds a probe feature per
saved group (the SDK has no public call that evaluates a saved group alone; a feature whose one force
rule references the group is true exactly for its members), and evaluates contexts.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

from growthbook import GrowthBook

from .network_guard import no_network

SDK_VERSION = "4.0.0"
PROBE = "probe:"


def check_sdk_version() -> None:
    found = version("growthbook")
    assert found == SDK_VERSION, f"growthbook {found} installed; the export targets {SDK_VERSION}"


@contextlib.contextmanager
def offline() -> Iterator[list[str]]:
    """Within it, a non-loopback connect or lookup fails; the test fails too, even when the SDK
    swallowed the error. Yields the attempts it refused."""
    with no_network() as attempts:
        yield attempts
    assert not attempts, f"the GrowthBook SDK tried the network: {attempts}"


def with_probes(payload: dict[str, Any]) -> dict[str, Any]:
    probed = copy.deepcopy(payload)
    for group in payload["savedGroups"]:
        probed["features"][PROBE + group] = {
            "defaultValue": False,
            "rules": [{"condition": {"$savedGroup": {"id": group}}, "force": True}],
        }
    return probed


class Engine:
    """One GrowthBook instance (no api_host, no client_key) holding the payload and its probes."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.groups = list(payload["savedGroups"])
        self.features = list(payload["features"])
        self.gb = GrowthBook()
        self.gb.set_payload(with_probes(payload))

    def evaluate(self, attributes: dict[str, Any]) -> tuple[dict[str, bool], dict[str, Any]]:
        """Each saved group's membership and each feature's value for one context."""
        self.gb.set_attributes(attributes)
        members = {group: self.gb.get_feature_value(PROBE + group, None) for group in self.groups}
        values = {key: self.gb.get_feature_value(key, "unset") for key in self.features}
        for group, member in members.items():
            assert isinstance(member, bool), f"probe of {group} gave {member!r}"
        return members, values

    def close(self) -> None:
        self.gb.destroy()

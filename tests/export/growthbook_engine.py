"""GrowthBook's own Python SDK (pinned 4.0.0) evaluating an exported payload, offline.

`offline` is a context manager that fails any socket connection or name lookup that is not loopback,
so a test proves the SDK fetched nothing. `Engine` loads a payload once, adds a probe feature per
saved group (the SDK has no public call that evaluates a saved group alone; a feature whose one force
rule references the group is true exactly for its members), and evaluates contexts.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import socket
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pytest
from growthbook import GrowthBook

SDK_VERSION = "4.0.0"
PROBE = "probe:"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", ""}


def check_sdk_version() -> None:
    found = version("growthbook")
    assert found == SDK_VERSION, f"growthbook {found} installed; the export targets {SDK_VERSION}"


def _loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return True  # an AF_UNIX path: local by definition
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def offline() -> Iterator[list[str]]:
    """Within it, a non-loopback connect or lookup fails the test; yields the attempts it refused."""
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        if not _loopback(address):
            attempts.append(f"connect {address!r}")
            raise OSError(f"network use in an offline test: connect {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if not _loopback(address):
            attempts.append(f"connect_ex {address!r}")
            raise OSError(f"network use in an offline test: connect {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _loopback(host):
            attempts.append(f"getaddrinfo {host!r}")
            raise OSError(f"network use in an offline test: lookup {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
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

"""The destinations' engines are the versions the exports were proven against: pip resolves
conflicting pins by quietly installing other versions (dbt pins protobuf below 7, the flagd provider
needs 7), so the versions are checked, not assumed."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from packaging.specifiers import SpecifierSet

PROVEN = {
    "dbt-core": "~=1.11.0",
    "dbt-duckdb": "~=1.11.0",
    "dbt-postgres": "~=1.11.0",
    "launchdarkly-server-sdk": ">=9.10,<10",
    "growthbook": "==4.0.0",
}


@pytest.mark.parametrize(("package", "pin"), sorted(PROVEN.items()))
def test_each_destination_engine_in_the_test_environment_is_the_version_proven(package: str, pin: str):
    assert version(package) in SpecifierSet(pin), f"{package} {version(package)} is not {pin}"


def test_the_pins_here_are_the_pins_in_pyproject():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    for package, pin in PROVEN.items():
        assert f'"{package}{pin}"' in text, package

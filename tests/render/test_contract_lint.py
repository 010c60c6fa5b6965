"""The ODCS contract passes `datacontract lint` (datacontract-cli, a dev dependency).

Outside CI the test skips when the CLI is absent; in CI (CI=true) it fails instead.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from personalization_engine.render import render_data_contract

from .helpers import example_plan, hostile, require_tool


def lint(contract: str, folder: Path) -> subprocess.CompletedProcess:
    beside_python = Path(sys.executable).parent / "datacontract"
    tool = require_tool(
        str(beside_python) if beside_python.exists() else shutil.which("datacontract"), "datacontract-cli"
    )
    path = folder / "data-contract.odcs.yaml"
    path.write_text(contract, encoding="utf-8")
    # --no-inline-references: the contract has none, and the check must not try the network.
    return subprocess.run(
        [tool, "lint", "--no-inline-references", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=folder,
    )


@pytest.mark.parametrize("text", [None, "{{ x }} \"quoted\" 'single' : # not a comment\n- not a list"])
def test_the_data_contract_passes_datacontract_lint(tmp_path, text):
    plan = example_plan() if text is None else hostile(example_plan(), text)
    done = lint(render_data_contract(plan), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in done.stdout


def test_the_linter_rejects_a_broken_contract_so_the_check_means_something(tmp_path):
    broken = render_data_contract(example_plan()).replace('logicalType: "string"', 'logicalType: "text"')
    done = lint(broken, tmp_path)
    assert done.returncode != 0

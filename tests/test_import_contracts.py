"""The import contracts in pyproject.toml ([tool.importlinter]) hold: layers and third-party imports.

import-linter reads packages from disk, and our `tools` subpackage lives in the top-level tools/
folder (the card's layout), so the check runs on a staged copy laid out as the wheel installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def staged_package(target: Path) -> Path:
    package = target / "personalization_engine"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "server", package, ignore=ignore)
    shutil.copytree(ROOT / "tools", package / "tools", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_layer_and_library_import_contracts_hold(tmp_path):
    staged = staged_package(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(staged)}
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=staged, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "broken" not in done.stdout.lower() or "0 broken" in done.stdout

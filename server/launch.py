"""Start personalization-engine from a plugin install with nothing but Python 3.10+.

Claude Code runs this file (see .mcp.json) with the system Python, before any dependency exists,
so it uses the standard library only and imports nothing from the package. It prefers `uv` when it
is on PATH; otherwise it builds a venv in a per-user cache on first start, reporting progress on
stderr, because stdout belongs to the MCP protocol.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

PLUGIN_ROOT = Path(__file__).resolve().parent.parent
CACHE_ENV = "PERSONALIZATION_ENGINE_CACHE"
NO_UV_ENV = "PERSONALIZATION_ENGINE_NO_UV"
MIN_PYTHON = (3, 10)


def say(message: str) -> None:
    print(f"personalization-engine: {message}", file=sys.stderr, flush=True)


def cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "personalization-engine"


def environment_key() -> str:
    """A new plugin version or a changed dependency list gets a fresh environment."""
    digest = hashlib.sha256((PLUGIN_ROOT / "pyproject.toml").read_bytes())
    digest.update(str(PLUGIN_ROOT).encode())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()[:16]


def venv_executable(env_dir: Path, name: str) -> Path:
    folder = "Scripts" if sys.platform == "win32" else "bin"
    suffix = ".exe" if sys.platform == "win32" else ""
    return env_dir / folder / f"{name}{suffix}"


def _acquire(lock_path: Path):
    """Serialize first-start builds between Claude Code sessions starting at the same time."""
    handle = lock_path.open("a+")
    try:
        import fcntl

        fcntl.flock(handle, fcntl.LOCK_EX)
    except ImportError:  # Windows: no flock; concurrent first starts there may build twice
        pass
    return handle


def ensure_venv() -> Path:
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    env_dir = root / f"venv-{environment_key()}"
    marker = env_dir / ".complete"
    if marker.exists():
        return env_dir
    with _acquire(root / f"{env_dir.name}.lock"):
        if marker.exists():
            return env_dir
        if env_dir.exists():
            shutil.rmtree(env_dir)  # a build that died half-way
        started = time.monotonic()
        say(f"first start: creating a Python environment in {env_dir} (one time, about a minute)")
        venv.EnvBuilder(with_pip=True).create(env_dir)
        python = venv_executable(env_dir, "python")
        say(f"installing personalization-engine and its dependencies from {PLUGIN_ROOT}")
        # pip's stdout is redirected to stderr: stdout must carry nothing but MCP messages.
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--progress-bar",
                "off",
                str(PLUGIN_ROOT),
            ],
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr,
            stderr=sys.stderr,
            check=True,
        )
        marker.write_text(f"{PLUGIN_ROOT}\n", encoding="utf-8")
        say(f"environment ready in {time.monotonic() - started:.0f}s")
    return env_dir


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        say(f"needs Python {'.'.join(map(str, MIN_PYTHON))} or newer; this is {sys.version.split()[0]}")
        return 1
    uv = shutil.which("uv") if not os.environ.get(NO_UV_ENV) else None
    if uv:
        # uv builds and caches the environment itself (--quiet: it prints only errors, on stderr).
        command = [uv, "tool", "run", "--quiet", "--from", str(PLUGIN_ROOT), "personalization-engine", *argv]
    else:
        try:
            env_dir = ensure_venv()
        except (OSError, subprocess.CalledProcessError) as exc:
            say(
                f"could not build the environment: {exc}. Install uv, or run "
                f"'pip install {PLUGIN_ROOT}' and point .mcp.json at the installed command"
            )
            return 1
        command = [str(venv_executable(env_dir, "personalization-engine")), *argv]
    if sys.platform == "win32":
        return subprocess.call(command)
    os.execv(command[0], command)
    return 0  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

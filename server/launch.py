"""Start personalization-engine from a plugin install with nothing but Python 3.10+.

Claude Code runs this file (see .mcp.json) with the system Python, before any dependency exists,
so it uses the standard library only and imports nothing from the package. On first start it builds
an environment in a per-user cache: with `uv` when it is on PATH and works, else with venv and pip
(uv fails behind some proxies, with a TLS error, where pip's configuration still works). Progress goes
to stderr, because stdout belongs to the MCP protocol. Each start also removes the environments of
older plugin versions that no running server holds.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None  # type: ignore[assignment]

PLUGIN_ROOT = Path(__file__).resolve().parent.parent
CACHE_ENV = "PERSONALIZATION_ENGINE_CACHE"
NO_UV_ENV = "PERSONALIZATION_ENGINE_NO_UV"
MIN_PYTHON = (3, 10)
MARKER = ".complete"
# venv-<plugin version>-<key>; environments from before the version was in the name have the key only.
ENV_NAME = re.compile(r"^venv-(?:(?P<version>.+)-)?(?P<key>[0-9a-f]{16})$")


def say(message: str) -> None:
    print(f"personalization-engine: {message}", file=sys.stderr, flush=True)


def cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "personalization-engine"


def plugin_version() -> str:
    found = re.search(r'^version = "([^"]+)"', (PLUGIN_ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    return found.group(1) if found else "0"


def version_order(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def environment_name() -> str:
    """A new plugin version or a changed dependency list gets a fresh environment."""
    digest = hashlib.sha256((PLUGIN_ROOT / "pyproject.toml").read_bytes())
    digest.update(str(PLUGIN_ROOT).encode())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return f"venv-{plugin_version()}-{digest.hexdigest()[:16]}"


def venv_executable(env_dir: Path, name: str) -> Path:
    folder = "Scripts" if sys.platform == "win32" else "bin"
    suffix = ".exe" if sys.platform == "win32" else ""
    return env_dir / folder / f"{name}{suffix}"


def _open_lock(path: Path) -> IO[str]:
    """Lock files live in locks/ and are never deleted: unlinking a lock file that another process is
    opening would give the two of them different locks."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("a+")


def hold(path: Path, *, shared: bool = False) -> IO[str]:
    """The open lock file, once this process holds the lock (no flock on Windows: never waits)."""
    handle = _open_lock(path)
    if fcntl is not None:
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
    return handle


def try_hold(path: Path) -> IO[str] | None:
    """The open lock file with an exclusive lock, or None when another process holds the lock."""
    handle = _open_lock(path)
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _run(command: list[str]) -> None:
    # Builders' stdout goes to stderr: stdout must carry nothing but MCP messages.
    subprocess.run(command, stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=sys.stderr, check=True)


def _built_with_uv(uv: str, env_dir: Path) -> bool:
    """Whether uv built the environment; when it fails, it has said why on stderr (behind a proxy,
    typically a TLS error), and the half-built folder is removed for pip."""
    say(f"installing personalization-engine and its dependencies from {PLUGIN_ROOT} with uv")
    python = venv_executable(env_dir, "python")
    step = "venv"
    try:
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(env_dir)])
        step = "pip install"
        _run([uv, "pip", "install", "--quiet", "--python", str(python), str(PLUGIN_ROOT)])
    except (OSError, subprocess.CalledProcessError) as exc:
        failed = f"exit status {exc.returncode}" if isinstance(exc, subprocess.CalledProcessError) else exc
        say(f"'uv {step}' failed ({failed}); building the environment with pip instead")
        shutil.rmtree(env_dir, ignore_errors=True)
        return False
    return True


def _build_with_pip(env_dir: Path) -> None:
    venv.EnvBuilder(with_pip=True).create(env_dir)
    say(f"installing personalization-engine and its dependencies from {PLUGIN_ROOT} with pip")
    python = str(venv_executable(env_dir, "python"))
    _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            str(PLUGIN_ROOT),
        ]
    )


def build(env_dir: Path) -> None:
    if env_dir.exists():
        shutil.rmtree(env_dir)  # a build that died half-way
    started = time.monotonic()
    say(f"first start: creating a Python environment in {env_dir} (one time, about a minute)")
    uv = shutil.which("uv") if not os.environ.get(NO_UV_ENV) else None
    if uv is None or not _built_with_uv(uv, env_dir):
        _build_with_pip(env_dir)
    (env_dir / MARKER).write_text(f"{PLUGIN_ROOT}\n", encoding="utf-8")
    say(f"environment ready in {time.monotonic() - started:.0f}s")


def ensure_environment() -> tuple[Path, IO[str]]:
    """The ready environment, and the shared lock that marks it in use for as long as it is open."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    env_dir = root / environment_name()
    in_use = hold(root / "locks" / f"{env_dir.name}.in-use", shared=True)
    if not (env_dir / MARKER).exists():
        # Serialize first-start builds between Claude Code sessions starting at the same time.
        with hold(root / "locks" / f"{env_dir.name}.build"):
            if not (env_dir / MARKER).exists():
                build(env_dir)
    remove_stale_environments(root, env_dir)
    return env_dir, in_use


def _is_stale(candidate: Path, version: str | None) -> bool:
    """Older plugin versions, an earlier build of this same install, a removed install, or a dead build."""
    marker = candidate / MARKER
    if not marker.exists() or version is None:
        return True
    owner = Path(marker.read_text(encoding="utf-8").strip())
    current = version_order(plugin_version())
    return version_order(version) < current or owner == PLUGIN_ROOT or not owner.is_dir()


def remove_stale_environments(root: Path, current: Path) -> None:
    if fcntl is None:  # without flock we cannot tell whether another session runs from it
        return
    for candidate in sorted(root.glob("venv-*")):
        name = ENV_NAME.match(candidate.name)
        if candidate == current or not candidate.is_dir() or name is None:
            continue
        if not _is_stale(candidate, name.group("version")):
            continue
        # A running server holds its environment's in-use lock; a build holds the build lock.
        in_use = try_hold(root / "locks" / f"{candidate.name}.in-use")
        building = try_hold(root / "locks" / f"{candidate.name}.build") if in_use else None
        if in_use and building:
            shutil.rmtree(candidate, ignore_errors=True)
            say(f"removed {candidate.name}, the environment of an older or removed plugin install")
        for handle in (in_use, building):
            if handle is not None:
                handle.close()


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        say(f"needs Python {'.'.join(map(str, MIN_PYTHON))} or newer; this is {sys.version.split()[0]}")
        return 1
    try:
        env_dir, in_use = ensure_environment()
    except (OSError, subprocess.CalledProcessError) as exc:
        say(
            f"could not build the environment: {exc}. Run 'pip install {PLUGIN_ROOT}' "
            "and point .mcp.json at the installed command"
        )
        return 1
    command = [str(venv_executable(env_dir, "personalization-engine")), *argv]
    if sys.platform == "win32":
        return subprocess.call(command)
    # The server inherits the open lock, so its environment counts as in use until it exits.
    os.set_inheritable(in_use.fileno(), True)
    os.execv(command[0], command)
    return 0  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Headless Chromium driven over the DevTools protocol on a pipe, with the standard library only.

`--window-size` cannot test a phone: Chromium clamps a window to 500 px, so a 390 px layout needs
`Emulation.setDeviceMetricsOverride`. The pipe (`--remote-debugging-pipe`: commands on fd 3, replies
on fd 4, each a NUL-terminated JSON message) needs no port and no websocket library. Evaluating
through the protocol also leaves the page untouched: its policy forbids scripts, and it stays that way.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]
TIMEOUT_S = 60.0
# bash, not sh: dash takes one-digit fds only, and our pipe ends may have any number.
REDIRECT = 'exec "$0" "$@" 3<&"$CDP_IN" 4>&"$CDP_OUT"'


class Browser:
    """One Chromium process; `open_page` loads a file at a viewport width and evaluates in it."""

    def __init__(self, chromium: str, profile_dir: Path, log: Path) -> None:
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        # The shell moves our pipe ends to fds 3 and 4, where Chromium expects them.
        with log.open("wb") as stderr:
            self._process = subprocess.Popen(
                ["bash", "-c", REDIRECT, chromium, *FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
                env={**os.environ, "CDP_IN": str(commands_read), "CDP_OUT": str(replies_write)},
                pass_fds=(commands_read, replies_write),
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
            )
        os.close(commands_read)
        os.close(replies_write)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, TimeoutError, RuntimeError):
            self._process.kill()
        finally:
            self._process.wait(timeout=TIMEOUT_S)
            os.close(self._commands)
            os.close(self._replies)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_for(self, event: str, session: str) -> dict[str, Any]:
        while True:
            for i, message in enumerate(self._events):
                if message.get("method") == event and message.get("sessionId") == session:
                    return self._events.pop(i)
            self._events.append(self._receive())

    def open_page(self, page: Path, width: int, height: int) -> str:
        """A session on a new tab showing `page` at `width` x `height` CSS pixels, after its load event."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Page.enable", session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 600,
        )
        self.send("Page.navigate", session, url=page.as_uri())
        self.wait_for("Page.loadEventFired", session)
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send("Runtime.evaluate", session, expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"the probe failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._replies], [], [], remaining)[0]:
                raise TimeoutError(f"chromium sent no reply within {TIMEOUT_S:.0f}s")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise RuntimeError(f"chromium exited (status {self._process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

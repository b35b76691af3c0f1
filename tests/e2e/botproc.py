"""`python bot.py` as a child process: start, SIGKILL, SIGTERM, and its log for failure messages.

The child gets PR_SET_PDEATHSIG=SIGKILL (Linux, when started from the main thread), so it
cannot outlive a test process that is itself killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx
from deathsig import die_with_parent

ROOT = Path(__file__).resolve().parents[2]


def webhook_env(port: int, secret: str, path: str = "/telegram") -> dict[str, str]:
    """The settings of a bot in webhook mode listening on loopback ``port``."""
    return {"MEDLOFTE_WEBHOOK_URL": f"http://127.0.0.1:{port}{path}",
            "MEDLOFTE_WEBHOOK_SECRET": secret, "MEDLOFTE_LISTEN": f"127.0.0.1:{port}"}


class BotProcess:
    """One run of ``python bot.py`` with the given environment, its output in ``log_path``."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        """Start the child (once)."""
        if self.proc is not None:
            raise RuntimeError("already started")
        preexec = die_with_parent(signal.SIGKILL)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "bot.py"], cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=preexec)
        return self

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        """True while the child runs."""
        return self.proc is not None and self.proc.poll() is None

    def sigkill(self) -> None:
        """``kill -9`` and reap."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 15.0, sig: signal.Signals = signal.SIGTERM) -> int | None:
        """``sig`` (SIGTERM, or SIGINT as Ctrl-C), wait; SIGKILL on timeout. Returns the exit
        code (negative: signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def ensure_dead(self) -> None:
        """For finally blocks: SIGKILL if still running, never raises for a gone process."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)

    def log_text(self) -> str:
        """The child's whole combined stdout/stderr."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_http(self, url: str, timeout: float = 30.0) -> httpx.Response:
        """GET ``url`` until it answers 200 (a webhook-mode bot's /healthz); fail when the
        child exits or on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise RuntimeError(f"bot.py exited before {url} answered:\n{self.log_tail()}")
            try:
                answer = httpx.get(url, timeout=2)
                if answer.status_code == 200:
                    return answer
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer 200:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, lines: int = 40) -> str:
        """The end of the child's combined stdout/stderr."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.ensure_dead()

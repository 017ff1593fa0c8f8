"""A small process supervisor: start each child, restart the ones that die, stop them all.

`manage.py runstack` runs the web server, the worker, the scheduler, the SMTP listener and
(when configured) the Slack Socket Mode client as children of one supervisor. A child that
exits is logged and started again after a backoff that grows while it keeps dying (1 s, 2 s,
4 s ... 30 s) and resets once it has stayed up for a minute; the other children go on
serving meanwhile. SIGINT or SIGTERM stops every child, politely first.
"""

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("rapport.supervisor")

FIRST_BACKOFF = 1.0
LONGEST_BACKOFF = 30.0
STABLE_AFTER = 60.0
STOP_GRACE = 10.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM if the supervisor dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the children outlive a killed supervisor
        pass


def children_running(parent_pid: int, command: str) -> list[int]:
    """The pids of *parent_pid*'s children whose command line has the word *command*.

    Read from /proc (Linux), for an operator's or a test's look at a running `runstack`.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == parent_pid and command.encode() in cmdline:
            found.append(int(entry.name))
    return found


@dataclass
class Child:
    name: str
    command: Sequence[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: float = FIRST_BACKOFF
    restarts: int = 0
    env: dict[str, str] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    """Keep a set of child processes running until told to stop."""

    def __init__(
        self,
        commands: Mapping[str, Sequence[str]],
        *,
        env: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.children = [Child(name, command) for name, command in commands.items()]
        self.env = {**os.environ, **(env or {})}
        self.clock = clock
        self.stopping = False

    def start(self, child: Child) -> None:
        # Own session: the terminal's Ctrl-C reaches only the supervisor, which stops the
        # children in order.
        child.process = subprocess.Popen(  # noqa: S603 - our own manage.py commands
            list(child.command),
            env=self.env,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        child.started_at = self.clock()
        child.restart_at = None
        logger.info("Started %s (pid %s).", child.name, child.process.pid)

    def start_all(self) -> None:
        for child in self.children:
            self.start(child)

    def check(self) -> None:
        """Notice children that exited and restart those whose backoff has passed."""
        now = self.clock()
        for child in self.children:
            process = child.process
            if child.restart_at is not None:
                if now >= child.restart_at and not self.stopping:
                    child.restarts += 1
                    self.start(child)
                continue
            if process is None or process.poll() is None:
                continue
            if now - child.started_at >= STABLE_AFTER:
                child.backoff = FIRST_BACKOFF
            wait = child.backoff
            child.backoff = min(child.backoff * 2, LONGEST_BACKOFF)
            child.restart_at = now + wait
            logger.error(
                "%s exited with code %s after %.0f s; restarting it in %.0f s.",
                child.name,
                process.returncode,
                now - child.started_at,
                wait,
            )

    def stop_all(self) -> None:
        self.stopping = True
        for child in self.children:
            if child.running and child.process is not None:
                child.process.send_signal(signal.SIGTERM)
        deadline = self.clock() + STOP_GRACE
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in %.0f s; killing it.", child.name, STOP_GRACE)
                child.process.kill()
                child.process.wait()

    def run(self, poll: float = 0.3) -> None:
        """Start every child and keep them up until SIGINT or SIGTERM."""

        def stop(signum: int, frame: object) -> None:
            self.stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.start_all()
        try:
            while not self.stopping:
                self.check()
                time.sleep(poll)
        finally:
            self.stop_all()

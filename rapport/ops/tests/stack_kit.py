"""What the tests that run a real stack (`manage.py runstack`) share."""

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
WAIT_SECONDS = 45


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def until[T](read: Callable[[], T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
    """Poll *read* until it returns something truthy; fail with *what* after *timeout*."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"Waited {timeout} s for {what}.")
        time.sleep(0.2)


def manage(env: dict[str, str], *args: str) -> str:
    """Run `manage.py *args* with *env*; return what it printed, fail on an error."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout

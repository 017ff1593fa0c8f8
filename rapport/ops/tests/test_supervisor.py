"""The supervisor of `manage.py runstack`: a dead child is restarted, the others keep running.

The children are real processes (tiny `python -c` programs); the supervisor's clock is a
counter the test moves, so the backoff is checked without waiting for it.
"""

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rapport.ops import supervisor as supervisor_module
from rapport.ops.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[3]
EXITS = [sys.executable, "-c", "import sys; sys.exit(3)"]
SLEEPS = [sys.executable, "-c", "import time; time.sleep(120)"]


class Clock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def supervised(clock: Clock) -> Iterator[Callable[..., Supervisor]]:
    """Make supervisors on the test's clock; every child they started is stopped after."""
    made: list[Supervisor] = []

    def make(**commands: list[str]) -> Supervisor:
        supervisor = Supervisor(commands, clock=clock)
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        for child in supervisor.children:
            if child.process is not None and child.process.poll() is None:
                child.process.kill()
                child.process.wait()


def _until_exited(supervisor: Supervisor, name: str, timeout: float = 20) -> None:
    child = _child(supervisor, name)
    deadline = time.monotonic() + timeout
    assert child.process is not None
    while child.process.poll() is None:
        assert time.monotonic() < deadline, f"{name} did not exit"
        time.sleep(0.02)


def _child(supervisor: Supervisor, name: str) -> supervisor_module.Child:
    return next(child for child in supervisor.children if child.name == name)


def _pid(supervisor: Supervisor, name: str) -> int:
    process = _child(supervisor, name).process
    assert process is not None
    return process.pid


def _alive(pid: int) -> bool:
    """True while *pid* runs (a zombie that was not reaped yet counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_child_that_dies_is_restarted_after_the_backoff_and_logged(
    supervised: Callable[..., Supervisor], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    supervisor = supervised(flaky=EXITS)
    supervisor.start_all()
    first = _pid(supervisor, "flaky")
    _until_exited(supervisor, "flaky")

    with caplog.at_level(logging.INFO, logger="rapport.supervisor"):
        supervisor.check()
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert errors == ["flaky exited with code 3 after 0 s; restarting it in 1 s."]
        assert _pid(supervisor, "flaky") == first  # not before the backoff has passed

        clock.advance(0.9)
        supervisor.check()
        assert _pid(supervisor, "flaky") == first

        clock.advance(0.1)
        supervisor.check()
    second = _pid(supervisor, "flaky")
    assert second != first
    assert _child(supervisor, "flaky").restarts == 1
    assert f"Started flaky (pid {second})." in caplog.messages


def test_the_backoff_doubles_while_a_child_keeps_dying_up_to_thirty_seconds(
    supervised: Callable[..., Supervisor], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    supervisor = supervised(flaky=EXITS)
    supervisor.start_all()
    waits = []
    for _ in range(7):
        _until_exited(supervisor, "flaky")
        supervisor.check()
        child = _child(supervisor, "flaky")
        assert child.restart_at is not None
        waits.append(child.restart_at - clock.now)
        clock.advance(waits[-1])
        supervisor.check()  # restarts it
        assert child.restart_at is None
    assert waits == [1, 2, 4, 8, 16, 30, 30]
    assert _child(supervisor, "flaky").restarts == 7


def test_the_backoff_starts_over_once_a_child_stayed_up_for_a_minute(
    supervised: Callable[..., Supervisor], clock: Clock
) -> None:
    supervisor = supervised(flaky=EXITS)
    supervisor.start_all()
    child = _child(supervisor, "flaky")
    for _ in range(3):  # 1 s, 2 s, 4 s
        _until_exited(supervisor, "flaky")
        supervisor.check()
        assert child.restart_at is not None
        clock.advance(child.restart_at - clock.now)
        supervisor.check()
    _until_exited(supervisor, "flaky")
    clock.advance(60)  # as if this run had served a minute before it died
    supervisor.check()
    assert child.restart_at == clock.now + 1


def test_one_child_dying_never_stops_the_others(
    supervised: Callable[..., Supervisor], clock: Clock
) -> None:
    supervisor = supervised(steady=SLEEPS, flaky=EXITS)
    supervisor.start_all()
    steady = _pid(supervisor, "steady")
    for _ in range(3):
        _until_exited(supervisor, "flaky")
        supervisor.check()
        clock.advance(30)
        supervisor.check()
    assert _child(supervisor, "flaky").restarts == 3
    assert _pid(supervisor, "steady") == steady
    assert _child(supervisor, "steady").running
    assert _child(supervisor, "steady").restarts == 0


def test_a_child_killed_by_a_signal_is_restarted_too(
    supervised: Callable[..., Supervisor], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    supervisor = supervised(worker=SLEEPS, web=SLEEPS)
    supervisor.start_all()
    killed, web = _pid(supervisor, "worker"), _pid(supervisor, "web")
    os.kill(killed, signal.SIGKILL)
    _until_exited(supervisor, "worker")
    with caplog.at_level(logging.ERROR, logger="rapport.supervisor"):
        supervisor.check()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [f"worker exited with code {-signal.SIGKILL} after 0 s; restarting it in 1 s."]
    clock.advance(1)
    supervisor.check()
    assert _pid(supervisor, "worker") != killed
    assert _child(supervisor, "worker").running
    assert _pid(supervisor, "web") == web


def test_no_child_is_restarted_once_stopping(
    supervised: Callable[..., Supervisor], clock: Clock
) -> None:
    supervisor = supervised(flaky=EXITS)
    supervisor.start_all()
    first = _pid(supervisor, "flaky")
    _until_exited(supervisor, "flaky")
    supervisor.check()
    supervisor.stopping = True
    clock.advance(5)
    supervisor.check()
    assert _pid(supervisor, "flaky") == first


def test_stopping_ends_every_child_and_kills_one_that_ignores_sigterm(
    supervised: Callable[..., Supervisor], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(supervisor_module, "STOP_GRACE", 0.5)
    ready = tmp_path / "ready"
    # Ignores SIGTERM, as a child stuck in a long call would; says when it does.
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"open({str(ready)!r}, 'w').close(); time.sleep(120)",
    ]
    supervisor = supervised(polite=SLEEPS, stubborn=stubborn)
    supervisor.start_all()
    deadline = time.monotonic() + 20
    while not ready.exists():
        assert time.monotonic() < deadline, "the stubborn child did not start"
        time.sleep(0.02)
    supervisor.stop_all()
    polite = _child(supervisor, "polite").process
    assert polite is not None and polite.returncode == -signal.SIGTERM
    killed = _child(supervisor, "stubborn").process
    assert killed is not None and killed.returncode == -signal.SIGKILL


def test_the_children_stop_when_the_supervisor_itself_is_killed(tmp_path: Path) -> None:
    """A supervisor killed with SIGKILL leaves no orphan children serving on its ports."""
    program = (
        "import sys; from rapport.ops.supervisor import Supervisor; "
        f"Supervisor({{'sleeper': {SLEEPS!r}}}).run()"
    )
    supervisor = subprocess.Popen(  # noqa: S603 - our own interpreter on our own code
        [sys.executable, "-c", program], cwd=ROOT, start_new_session=True
    )
    children: list[int] = []
    try:
        deadline = time.monotonic() + 20
        while not children:
            assert time.monotonic() < deadline, "the supervisor started no child"
            children = _children_of(supervisor.pid)
            time.sleep(0.05)
        os.kill(supervisor.pid, signal.SIGKILL)
        supervisor.wait()
        deadline = time.monotonic() + 10
        while _alive(children[0]):
            assert time.monotonic() < deadline, "the child outlived its supervisor"
            time.sleep(0.05)
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return found

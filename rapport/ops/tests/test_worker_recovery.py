"""The worker survives database outages and recovers the runs a killed worker left behind.

- `task_runs_recover` puts a "running" task record back on the queue when its worker has
  stopped recording `worker:<id>` heartbeats, and leaves alone the runs of live workers.
- `manage.py worker` (ResilientWorker) puts a task that met an outage back on the queue
  instead of recording it failed, records a task whose work succeeded as successful once,
  and waits out an outage of its own queries instead of exiting.
"""

import datetime
import signal
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, DBTaskResultQuerySet

from rapport.ops import worker as worker_module
from rapport.ops.models import Heartbeat
from rapport.ops.services import heartbeat_beat, task_runs_recover
from rapport.ops.tasks import worker_heartbeat
from rapport.ops.tests.stack_kit import until

# The worker opens its own transactions, so the tests cannot be wrapped in one.
pytestmark = pytest.mark.django_db(transaction=True)

OUTAGE = "unable to open database file"
# How many times each test task's body ran, by key.
RUNS: Counter[str] = Counter()


@task
def outage_once(key: str) -> str:
    """Meets a database outage the first time it runs for *key*, then succeeds."""
    RUNS[key] += 1
    if RUNS[key] == 1:
        raise OperationalError(OUTAGE)
    return f"done {key}"


@task
def outage_always(key: str) -> None:
    """Meets an outage every time: the task's own query is broken."""
    RUNS[key] += 1
    raise OperationalError(OUTAGE)


@task
def broken(key: str) -> None:
    """Fails for a reason that is not the database."""
    RUNS[key] += 1
    raise ValueError("not an outage")


@task
def works(key: str) -> str:
    RUNS[key] += 1
    return f"done {key}"


@pytest.fixture(autouse=True)
def _fresh_runs() -> Iterator[None]:
    RUNS.clear()
    yield
    RUNS.clear()


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's first wait after an outage is 0.5 s; a test waits 0.05 s."""
    original = worker_module.Backoff

    def quick() -> worker_module.Backoff:
        return original(first=0.05, longest=0.2)

    monkeypatch.setattr(worker_module, "Backoff", quick)


def _enqueue(job: object, key: str) -> DBTaskResult:
    result = job.using(backend="database").enqueue(key)  # type: ignore[attr-defined]
    return DBTaskResult.objects.get(id=result.id)


def _worker(*extra: str) -> None:
    """Run `manage.py worker` on the test's database queue, in this process."""
    # A guard: a worker that never stops would hang the suite; stop it after 60 s.
    guard = threading.Timer(60, signal.raise_signal, args=(signal.SIGTERM,))
    guard.start()
    try:
        call_command(
            "worker",
            "--backend",
            "database",
            "--queue-name",
            "default",
            "--no-startup-delay",
            "--interval",
            "0",
            *extra,
            verbosity=0,
        )
    finally:
        guard.cancel()


def _status(result: DBTaskResult) -> str:
    return str(DBTaskResult.objects.get(id=result.id).status)


# --- task_runs_recover -------------------------------------------------------------------------


def _running(key: str, *, worker_id: str, started_ago: float = 60) -> DBTaskResult:
    result = _enqueue(works, key)
    DBTaskResult.objects.filter(id=result.id).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - datetime.timedelta(seconds=started_ago),
        worker_ids=[worker_id],
    )
    return result


def _beat(worker_id: str, *, ago: float = 0) -> None:
    Heartbeat.objects.create(
        name=f"worker:{worker_id}", beat_at=timezone.now() - datetime.timedelta(seconds=ago)
    )


def test_a_run_whose_worker_stopped_beating_goes_back_on_the_queue() -> None:
    killed = _running("killed", worker_id="killedworker")
    silent = _running("silent", worker_id="silentworker")
    _beat("silentworker", ago=60)  # its last beat is older than three missed beats
    assert task_runs_recover(alive_within=15) == 2
    for result in (killed, silent):
        row = DBTaskResult.objects.get(id=result.id)
        assert row.status == TaskResultStatus.READY
        assert row.started_at is None
    assert DBTaskResult.objects.ready().count() == 2  # a worker takes them again


def test_a_run_whose_worker_still_beats_stays_running() -> None:
    alive = _running("alive", worker_id="liveworker")
    _beat("liveworker", ago=2)
    assert task_runs_recover(alive_within=15) == 0
    assert _status(alive) == TaskResultStatus.RUNNING


def test_only_the_latest_worker_of_a_run_counts() -> None:
    """A run recovered once and claimed again belongs to its second worker."""
    result = _running("twice", worker_id="second")
    DBTaskResult.objects.filter(id=result.id).update(worker_ids=["first", "second"])
    _beat("first")
    assert task_runs_recover(alive_within=15) == 1
    assert _status(result) == TaskResultStatus.READY


def test_a_run_that_just_started_is_left_to_its_worker() -> None:
    """A worker's first beat may still be on its way: a fresh run is not taken from it."""
    fresh = _running("fresh", worker_id="newworker", started_ago=1)
    assert task_runs_recover(alive_within=15) == 0
    assert _status(fresh) == TaskResultStatus.RUNNING


def test_finished_and_waiting_runs_are_not_touched() -> None:
    waiting = _enqueue(works, "waiting")
    done = _running("done", worker_id="goneworker")
    DBTaskResult.objects.filter(id=done.id).update(status=TaskResultStatus.SUCCESSFUL)
    assert task_runs_recover(alive_within=15) == 0
    assert _status(waiting) == TaskResultStatus.READY
    assert _status(done) == TaskResultStatus.SUCCESSFUL


def test_a_new_worker_runs_what_a_killed_worker_left_running(restore_signals: None) -> None:
    abandoned = _running("abandoned", worker_id="killedworker")
    # Not --batch: the worker waits for its liveness thread to find the abandoned run.
    _worker("--max-tasks", "1")
    row = DBTaskResult.objects.get(id=abandoned.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value == "done abandoned"
    assert RUNS["abandoned"] == 1
    assert row.worker_ids[0] == "killedworker" and len(row.worker_ids) == 2
    # The new worker recorded that it is alive, under its own id too.
    assert Heartbeat.objects.filter(name="worker").exists()
    assert Heartbeat.objects.filter(name=f"worker:{row.worker_ids[1]}").exists()


# --- the worker and outages --------------------------------------------------------------------


def test_a_task_that_met_an_outage_is_queued_again_not_recorded_failed(
    restore_signals: None, fast_backoff: None
) -> None:
    result = _enqueue(outage_once, "ticket")
    _worker("--batch")
    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value == "done ticket"
    assert RUNS["ticket"] == 2  # the run that met the outage, and the one that finished
    assert len(row.worker_ids) == 2  # claimed again after going back on the queue
    assert not DBTaskResult.objects.failed().exists()


def test_a_task_whose_own_query_always_fails_is_recorded_failed_in_the_end(
    restore_signals: None, fast_backoff: None
) -> None:
    result = _enqueue(outage_always, "broken-query")
    _worker("--batch")
    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == "django.db.utils.OperationalError"
    assert RUNS["broken-query"] == worker_module.MAX_OUTAGE_REQUEUES + 1


def test_a_task_that_fails_for_another_reason_is_recorded_failed_at_once(
    restore_signals: None,
) -> None:
    result = _enqueue(broken, "bug")
    _worker("--batch")
    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == "builtins.ValueError"
    assert RUNS["bug"] == 1


def test_a_task_whose_success_could_not_be_recorded_is_recorded_once_not_run_again(
    restore_signals: None, fast_backoff: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The work committed; the outage hit the write of its result. It must not run twice."""
    original = DBTaskResult.set_successful
    attempts: list[object] = []

    def set_successful(self: DBTaskResult, return_value: object) -> None:
        attempts.append(return_value)
        if len(attempts) <= 2:
            raise OperationalError(OUTAGE)
        original(self, return_value)

    monkeypatch.setattr(DBTaskResult, "set_successful", set_successful)
    result = _enqueue(works, "once")
    _worker("--batch")
    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value == "done once"
    assert RUNS["once"] == 1
    assert len(attempts) == 3
    assert len(row.worker_ids) == 1


def test_the_worker_waits_out_an_outage_of_its_own_queries_and_goes_on(
    restore_signals: None, fast_backoff: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library's worker exits on the first OperationalError; this one resumes."""
    original = DBTaskResultQuerySet.get_locked
    failures = [OperationalError(OUTAGE), OperationalError(OUTAGE)]

    def get_locked(self: DBTaskResultQuerySet) -> DBTaskResult | None:
        if failures:
            raise failures.pop()
        return original(self)

    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", get_locked)
    first = _enqueue(works, "first")
    second = worker_heartbeat.using(backend="database").enqueue()
    _worker("--batch")
    assert failures == []
    assert _status(first) == TaskResultStatus.SUCCESSFUL
    assert RUNS["first"] == 1
    assert DBTaskResult.objects.get(id=second.id).status == TaskResultStatus.SUCCESSFUL


def test_a_query_that_is_wrong_still_stops_the_worker(
    restore_signals: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only an outage is waited out; a programming error is not retried for ever."""
    from django.db import ProgrammingError

    def get_locked(self: DBTaskResultQuerySet) -> DBTaskResult | None:
        raise ProgrammingError("no such column: nope")

    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", get_locked)
    _enqueue(works, "never")
    with pytest.raises(ProgrammingError):
        _worker("--batch")
    assert RUNS["never"] == 0


def test_the_worker_leaves_no_thread_and_no_connection_behind(restore_signals: None) -> None:
    """Its liveness thread has finished, and closed its own connection, when it returns.

    A server process ends a moment after its client hangs up, so the PostgreSQL check
    waits a few seconds for the sessions the worker opened to go; a leak never goes.
    """
    _enqueue(works, "last")
    started = timezone.now()
    _worker("--batch")
    assert RUNS["last"] == 1
    assert [t.name for t in threading.enumerate() if t.name == "worker-liveness"] == []
    if connection.vendor == "postgresql":

        def no_session_left() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_start >= %s",
                    [started],
                )
                return cursor.fetchone() == (0,)

        until(no_session_left, "the worker's sessions to end", timeout=10)


def test_a_worker_id_too_long_for_its_heartbeat_is_refused(restore_signals: None) -> None:
    """Its `worker:<id>` beat would not fit (PostgreSQL refuses it), so its runs would look
    abandoned and be run a second time by another worker."""
    _enqueue(works, "unrun")
    with pytest.raises(CommandError, match="at most 43 characters"):
        _worker("--batch", "--worker-id", "w" * 44)
    assert RUNS["unrun"] == 0


def test_the_longest_worker_id_allowed_runs_and_its_heartbeat_fits(
    restore_signals: None,
) -> None:
    worker_id = "w" * 43
    _enqueue(works, "longest")
    _worker("--batch", "--worker-id", worker_id)
    assert RUNS["longest"] == 1
    heartbeat_beat(f"worker:{worker_id}")  # what its liveness thread writes
    assert Heartbeat.objects.filter(name=f"worker:{worker_id}").exists()

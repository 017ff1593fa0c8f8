"""The scheduler: each periodic job is enqueued once per period, however many schedulers run."""

import datetime
import logging
import os
import signal
import threading
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError, ProgrammingError, connection, connections
from django.tasks import Task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from rapport import schedule
from rapport.ops.management.commands import scheduler as scheduler_command
from rapport.ops.models import Heartbeat, ScheduledJob
from rapport.ops.services import scheduled_job_claim, scheduled_job_run_due
from rapport.ops.tasks import worker_heartbeat

MINUTE = datetime.timedelta(minutes=1)
NOW = datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC)


def _queued() -> list[str]:
    return sorted(DBTaskResult.objects.values_list("task_path", flat=True))


def _queued_heartbeat() -> Task:
    """The heartbeat task on the database queue, so an enqueue leaves a row to count."""
    return worker_heartbeat.using(backend="database")


# --- the claim -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_job_is_due_at_once_and_then_not_until_its_period_passed() -> None:
    assert scheduled_job_claim("report", MINUTE, NOW)
    job = ScheduledJob.objects.get(name="report")
    assert job.next_run_at == NOW + MINUTE
    assert job.last_enqueued_at == NOW
    assert not scheduled_job_claim("report", MINUTE, NOW + datetime.timedelta(seconds=59))
    assert scheduled_job_claim("report", MINUTE, NOW + MINUTE)


@pytest.mark.django_db
def test_two_claims_at_the_same_instant_only_one_wins() -> None:
    ScheduledJob.objects.create(name="report", next_run_at=NOW)
    outcomes = [scheduled_job_claim("report", MINUTE, NOW) for _ in range(2)]
    assert outcomes == [True, False]


@pytest.mark.django_db
def test_a_job_that_is_not_due_is_not_enqueued(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    jobs = [("heartbeat", MINUTE, _queued_heartbeat())]
    ScheduledJob.objects.create(name="heartbeat", next_run_at=timezone.now() + MINUTE)
    with django_capture_on_commit_callbacks(execute=True):
        assert scheduled_job_run_due(jobs) == []
    assert _queued() == []


@pytest.mark.django_db
def test_a_due_job_is_enqueued_once_after_commit(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    jobs = [("heartbeat", MINUTE, _queued_heartbeat())]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert scheduled_job_run_due(jobs) == ["heartbeat"]
    assert _queued() == []  # nothing leaves before the claim commits
    for callback in callbacks:
        callback()
    assert _queued() == ["rapport.ops.tasks.worker_heartbeat"]
    with django_capture_on_commit_callbacks(execute=True):
        assert scheduled_job_run_due(jobs) == []
    assert len(_queued()) == 1


# --- the command ---------------------------------------------------------------------------


# Transactional: the command closes stale connections between rounds, as a long-running
# process must, and enqueues on commit.
@pytest.mark.django_db(transaction=True)
def test_scheduler_once_enqueues_the_due_jobs_and_they_run(restore_signals: None) -> None:
    out = StringIO()
    call_command("scheduler", "--once", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"Scheduler running {len(schedule.JOBS)} jobs."
    assert sorted(lines[1:]) == sorted(f"Enqueued {name}" for name, _, _ in schedule.JOBS)
    assert Heartbeat.objects.filter(name="worker").exists()  # tasks run inline in tests

    again = StringIO()
    call_command("scheduler", "--once", stdout=again)
    assert again.getvalue().splitlines()[1:] == []


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_waits_out_a_database_outage_and_enqueues_after_it(
    restore_signals: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Before, the first OperationalError ended the scheduler; now it retries with backoff."""
    rounds: list[str] = []

    def run_due(jobs: list[tuple[str, datetime.timedelta, Task]]) -> list[str]:
        if len(rounds) < 2:
            rounds.append("outage")
            raise OperationalError("unable to open database file")
        rounds.append("ran")
        enqueued = scheduled_job_run_due(jobs)
        os.kill(os.getpid(), signal.SIGTERM)  # stop the loop after this round
        return enqueued

    monkeypatch.setattr(scheduler_command, "scheduled_job_run_due", run_due)
    out = StringIO()
    with caplog.at_level(logging.WARNING, logger="rapport.scheduler"):
        call_command("scheduler", "--interval", "0.1", stdout=out)
    assert rounds == ["outage", "outage", "ran"]
    assert sorted(out.getvalue().splitlines()[1:]) == sorted(
        f"Enqueued {name}" for name, _, _ in schedule.JOBS
    )
    assert set(ScheduledJob.objects.values_list("name", flat=True)) == {
        name for name, _, _ in schedule.JOBS
    }
    waits = [r.getMessage() for r in caplog.records if "scheduler retries" in r.getMessage()]
    assert [w.rsplit("retries in ", 1)[1] for w in waits] == ["0.5 s.", "1.0 s."]


@pytest.mark.django_db(transaction=True)
def test_a_query_that_is_wrong_still_stops_the_scheduler(
    restore_signals: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run_due(jobs: list[tuple[str, datetime.timedelta, Task]]) -> list[str]:
        raise ProgrammingError("no such table: ops_scheduledjob")

    monkeypatch.setattr(scheduler_command, "scheduled_job_run_due", run_due)
    with pytest.raises(ProgrammingError):
        call_command("scheduler", "--interval", "0.1", stdout=StringIO())


def test_every_scheduled_job_has_a_unique_name_a_period_and_a_task() -> None:
    names = [name for name, _, _ in schedule.JOBS]
    assert len(names) == len(set(names))
    for name, every, task in schedule.JOBS:
        assert name
        assert every >= datetime.timedelta(seconds=30), name
        assert isinstance(task, Task), name


# --- several schedulers at once (PostgreSQL) -----------------------------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (set DATABASE_URL): SQLite serializes writers, so no race",
)


def _race(work: Callable[[], Any], threads: int = 8) -> list[Any]:
    barrier = threading.Barrier(threads)
    outcomes: list[Any] = [None] * threads

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[i] = work()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[i] = exc
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return outcomes


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_a_due_job_have_exactly_one_winner() -> None:
    ScheduledJob.objects.create(name="report", next_run_at=NOW)
    outcomes = _race(lambda: scheduled_job_claim("report", MINUTE, NOW))
    assert sorted(outcomes, key=repr) == sorted([True] + [False] * 7, key=repr), outcomes


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_enqueue_a_due_job_once() -> None:
    jobs = [("heartbeat", MINUTE, _queued_heartbeat())]
    outcomes = _race(lambda: scheduled_job_run_due(jobs))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(len(o) for o in outcomes) == 1
    assert _queued() == ["rapport.ops.tasks.worker_heartbeat"]

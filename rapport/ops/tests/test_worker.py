"""The django-tasks-db worker takes tasks off the database queue and runs them."""

import datetime

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from rapport.ops.models import Heartbeat
from rapport.ops.tasks import task_results_prune, worker_heartbeat

# The worker opens its own transactions (EXCLUSIVE on SQLite), so the test cannot be
# wrapped in one.
pytestmark = pytest.mark.django_db(transaction=True)


def _run_worker(max_tasks: int = 1) -> None:
    call_command(
        "db_worker",
        "--backend",
        "database",
        "--queue-name",
        "default",
        "--batch",
        "--max-tasks",
        str(max_tasks),
        "--no-startup-delay",
        "--interval",
        "0",
        "--no-reload",
        verbosity=0,
    )


def test_the_worker_runs_the_heartbeat_from_the_queue_and_health_reports_it(
    restore_signals: None, client: Client
) -> None:
    result = worker_heartbeat.using(backend="database").enqueue()
    assert result.status == TaskResultStatus.READY
    assert not Heartbeat.objects.exists()
    assert client.get("/healthz").json()["worker"] == "no heartbeat yet"

    _run_worker()

    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert Heartbeat.objects.filter(name="worker").exists()
    assert client.get("/healthz").json()["worker"] == "ok"


def test_the_worker_exits_when_the_queue_is_empty(restore_signals: None) -> None:
    _run_worker(max_tasks=5)
    assert not DBTaskResult.objects.exists()


def test_pruning_deletes_finished_task_rows_older_than_a_week(restore_signals: None) -> None:
    old = worker_heartbeat.using(backend="database").enqueue()
    recent = worker_heartbeat.using(backend="database").enqueue()
    _run_worker(max_tasks=2)
    DBTaskResult.objects.filter(id=old.id).update(
        finished_at=timezone.now() - datetime.timedelta(days=8)
    )
    waiting = worker_heartbeat.using(backend="database").enqueue()
    assert task_results_prune.call() == 1
    remaining = {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)}
    assert remaining == {recent.id, waiting.id}

"""A run of a backlog task is enqueued once while one waits to start, not once per ask."""

import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from rapport.ops.queue import task_enqueue_coalesced
from rapport.outbox.tasks import outbox_deliver
from rapport.requests.tasks import requests_triage

pytestmark = pytest.mark.django_db

DELIVER = outbox_deliver.using(backend="database")
TRIAGE = requests_triage.using(backend="database")


def _runs(task_path: str) -> list[str]:
    return list(DBTaskResult.objects.filter(task_path=task_path).values_list("status", flat=True))


def test_a_second_ask_while_a_run_waits_adds_nothing() -> None:
    task_enqueue_coalesced(DELIVER)
    task_enqueue_coalesced(DELIVER)
    task_enqueue_coalesced(DELIVER)
    assert _runs(DELIVER.module_path) == [TaskResultStatus.READY]


def test_an_ask_once_the_run_started_queues_one_more() -> None:
    """The started run may have read the backlog already: the new rows need a run of their own."""
    task_enqueue_coalesced(DELIVER)
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)
    task_enqueue_coalesced(DELIVER)
    task_enqueue_coalesced(DELIVER)
    assert sorted(_runs(DELIVER.module_path)) == [TaskResultStatus.READY, TaskResultStatus.RUNNING]


def test_an_ask_after_the_run_finished_queues_one_more() -> None:
    task_enqueue_coalesced(DELIVER)
    DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL)
    task_enqueue_coalesced(DELIVER)
    assert sorted(_runs(DELIVER.module_path)) == [
        TaskResultStatus.READY,
        TaskResultStatus.SUCCESSFUL,
    ]


def test_each_task_coalesces_on_its_own() -> None:
    task_enqueue_coalesced(DELIVER)
    task_enqueue_coalesced(TRIAGE)
    task_enqueue_coalesced(TRIAGE)
    assert _runs(DELIVER.module_path) == [TaskResultStatus.READY]
    assert _runs(TRIAGE.module_path) == [TaskResultStatus.READY]

"""Reads about the background machinery: what the task queue still holds."""

from typing import Any

from django.tasks import Task, TaskResultStatus
from django_tasks_db.models import DBTaskResult


def task_queued_args(task: Task[Any, Any]) -> list[list[Any]]:
    """Return the arguments of each run of *task* still waiting in the database queue.

    Runs a worker has started are not counted: if that worker died, they never finish.
    """
    rows = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=task.module_path
    ).values_list("args_kwargs", flat=True)
    return [list(row.get("args") or []) for row in rows]

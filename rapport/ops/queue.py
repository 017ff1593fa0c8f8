"""Enqueue a task that works through a shared backlog at most once at a time.

Triage and outbox delivery each drain a table of pending rows, whoever asked. A burst of
100 tickets a second asking for one run each would fill the queue with runs that find
nothing to do, each costing the worker three writes. A run that is still waiting in the
queue (not yet started) will read every row committed before it starts, so a second one
adds nothing: it is skipped. A run that has started may have read the table already, so
it does not count.
"""

from typing import Any

from django.tasks import Task, task_backends


def task_enqueue_coalesced(task: Task[Any, Any]) -> None:
    """Enqueue *task* (no arguments) unless a run of it is already waiting to start."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    backend = task_backends[task.backend]
    if isinstance(backend, DatabaseBackend):
        waiting = DBTaskResult.objects.ready().filter(
            task_path=task.module_path, backend_name=task.backend, queue_name=task.queue_name
        )
        if waiting.exists():
            return
    task.enqueue()

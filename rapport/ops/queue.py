"""Enqueue a task that works through a shared backlog at most once at a time.

Triage and outbox delivery each drain a table of pending rows, whoever asked. A burst of
100 tickets a second asking for one run each would fill the queue with runs that find
nothing to do, each costing the worker three writes. A run that is still waiting in the
queue (not yet started) will read every row committed before it starts, so a second one
adds nothing: it is skipped. A run that has started may have read the table already, so
it does not count.
"""

from typing import Any, cast

from django.db import connection
from django.db.models import Field
from django.tasks import Task, TaskResultStatus, task_backends
from django.utils import timezone


def task_enqueue_coalesced(task: Task[Any, Any]) -> None:
    """Enqueue *task* (no arguments) unless a run of it is already waiting to start."""
    from django_tasks_db.backend import DatabaseBackend

    backend = task_backends[task.backend]
    if isinstance(backend, DatabaseBackend) and _run_waiting(task):
        return
    task.enqueue()


def _run_waiting(task: Task[Any, Any]) -> bool:
    """Return whether a run of *task* is queued and due (the worker's `ready()` runs).

    Written as SQL because it runs after every ticket and email: the ORM would spend
    more time building the statement than the database spends answering it.
    """
    from django_tasks_db.models import DBTaskResult, get_date_max

    meta = DBTaskResult._meta
    table = connection.ops.quote_name(meta.db_table)
    fields = {
        name: cast("Field[Any, Any]", DBTaskResult._meta.get_field(name))
        for name in ("status", "task_path", "backend_name", "queue_name", "run_after")
    }
    column = {name: connection.ops.quote_name(str(field.column)) for name, field in fields.items()}
    field = fields["run_after"]
    now, never = (
        field.get_db_prep_value(value, connection) for value in (timezone.now(), get_date_max())
    )
    # Only names from the model go into the text; the values are parameters.
    where = " AND ".join(
        f"{column[name]} = %s" for name in ("status", "task_path", "backend_name", "queue_name")
    )
    due = f"({column['run_after']} = %s OR {column['run_after']} <= %s)"
    sql = f"SELECT 1 FROM {table} WHERE {where} AND {due} LIMIT 1"  # noqa: S608
    params = [TaskResultStatus.READY, task.module_path, task.backend, task.queue_name, never, now]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None

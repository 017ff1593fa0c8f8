"""Enqueue a task that works through a shared backlog at most once at a time.

Triage and outbox delivery each drain a table of pending rows, whoever asked. A burst of
100 tickets a second asking for one run each would fill the queue with runs that find
nothing to do, each costing the worker three writes. A run that is still waiting in the
queue (not yet started) will read every row committed before it starts, so a second one
adds nothing: it is skipped. A run that has started may have read the table already, so
it does not count.
"""

from collections.abc import Callable
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Field
from django.tasks import Task, TaskResultStatus, task_backends
from django.utils import timezone


def on_commit_once(hook: Callable[[], None]) -> None:
    """Run *hook* once the current transaction commits, once however often it is asked.

    A change that queues many rows (a triage chunk opening dozens of requests, each with
    outbox calls) would otherwise run the hook, and its coalesced enqueue's query, once
    per row after commit.
    """
    connection = transaction.get_connection()
    here = set(connection.savepoint_ids)
    # Django's list of the hooks waiting for this transaction, each with the savepoints
    # open when it was registered: one registered under the same savepoints commits or
    # rolls back with this change. (Comparing savepoints, not just looking for the hook,
    # also keeps tests that capture each block's hooks seeing their own.)
    waiting = connection.run_on_commit
    if not any(registered is hook and sids == here for sids, registered, _ in waiting):
        transaction.on_commit(hook)


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

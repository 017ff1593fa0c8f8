"""Operational tasks."""

import datetime

from django.tasks import task
from django.utils import timezone

from rapport.ops.services import heartbeat_beat


@task()
def worker_heartbeat() -> None:
    """Show /healthz that a worker is taking tasks off the queue."""
    heartbeat_beat("worker")


@task()
def task_results_prune() -> int:
    """Delete finished task rows older than a week so the queue table stays small."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - datetime.timedelta(days=7)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted

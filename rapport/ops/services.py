"""Writes for the scheduler and the worker heartbeat."""

import datetime

from django.db import IntegrityError, transaction
from django.tasks import Task, TaskResultStatus
from django.utils import timezone

from rapport.ops.models import Heartbeat, ScheduledJob


def heartbeat_beat(name: str = "worker") -> None:
    """Record that a worker is alive and running tasks (one short write)."""
    now = timezone.now()
    if Heartbeat.objects.filter(name=name).update(beat_at=now):
        return
    try:
        with transaction.atomic():
            Heartbeat.objects.create(name=name, beat_at=now)
    except IntegrityError:  # another process created it first
        Heartbeat.objects.filter(name=name).update(beat_at=now)


def scheduled_job_claim(name: str, every: datetime.timedelta, now: datetime.datetime) -> bool:
    """Claim the due run of job *name*; True means this caller must enqueue it.

    The compare-and-swap on `next_run_at` makes the claim safe when several schedulers
    race: only the one whose UPDATE matches the old value wins.
    """
    job, _ = ScheduledJob.objects.get_or_create(name=name, defaults={"next_run_at": now})
    if job.next_run_at > now:
        return False
    claimed = ScheduledJob.objects.filter(pk=job.pk, next_run_at=job.next_run_at).update(
        next_run_at=now + every, last_enqueued_at=now
    )
    return claimed == 1


def scheduled_job_run_due(jobs: list[tuple[str, datetime.timedelta, Task]]) -> list[str]:
    """Enqueue every job that is due; return the names enqueued."""
    now = timezone.now()
    enqueued = []
    for name, every, task in jobs:
        with transaction.atomic():
            if scheduled_job_claim(name, every, now):
                transaction.on_commit(task.enqueue)
                enqueued.append(name)
    return enqueued


WORKER_BEAT_PREFIX = "worker:"


def heartbeats_prune(older_than: datetime.timedelta = datetime.timedelta(days=1)) -> int:
    """Forget the liveness rows of workers gone for a day (each run has its own id)."""
    deleted, _ = Heartbeat.objects.filter(
        name__startswith=WORKER_BEAT_PREFIX, beat_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


def task_runs_recover(*, alive_within: float) -> int:
    """Put back on the queue the task runs whose worker stopped beating; return how many.

    A worker killed mid-task (SIGKILL, out of memory, a lost machine) leaves its task
    record "running" for ever. Each worker records `worker:<id>` every few seconds; a
    run whose worker has no beat newer than *alive_within* seconds is ready again.
    """
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - datetime.timedelta(seconds=alive_within)
    alive = set(
        Heartbeat.objects.filter(
            name__startswith=WORKER_BEAT_PREFIX, beat_at__gte=cutoff
        ).values_list("name", flat=True)
    )
    abandoned = [
        pk
        for pk, worker_ids in DBTaskResult.objects.filter(
            status=TaskResultStatus.RUNNING, started_at__lt=cutoff
        ).values_list("pk", "worker_ids")
        if not worker_ids or f"{WORKER_BEAT_PREFIX}{worker_ids[-1]}" not in alive
    ]
    if not abandoned:
        return 0
    return DBTaskResult.objects.filter(pk__in=abandoned, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None
    )

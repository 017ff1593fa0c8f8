"""Writes for the scheduler and the worker heartbeat."""

import datetime

from django.db import transaction
from django.tasks import Task
from django.utils import timezone

from rapport.ops.models import Heartbeat, ScheduledJob


def heartbeat_beat(name: str = "worker") -> None:
    """Record that a worker is alive and running tasks."""
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})


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

"""State of the background machinery: periodic job runs and the worker heartbeat."""

from django.db import models


class ScheduledJob(models.Model):
    """When a periodic job was last enqueued and is next due.

    Schedulers claim a due run with a conditional UPDATE on `next_run_at`, so several
    schedulers running at once enqueue each run exactly once.
    """

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Heartbeat(models.Model):
    """The last time a worker ran the heartbeat task; /healthz reads it."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at}"

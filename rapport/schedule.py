"""Every periodic job of Rapport, one entry per job, with why it runs at that cadence.

`manage.py scheduler` enqueues each job when it is due; the claim in
`ops.services.scheduled_job_claim` keeps that safe with several schedulers.
"""

import datetime

from django.tasks import Task

from rapport.inbox import tasks as inbox_tasks
from rapport.ops import tasks as ops_tasks

JOBS: list[tuple[str, datetime.timedelta, Task]] = [
    # Each minute, so /healthz notices a stopped worker within a few minutes.
    ("worker_heartbeat", datetime.timedelta(minutes=1), ops_tasks.worker_heartbeat),
    # Each minute: events left pending by a worker that died are processed within about
    # two minutes of arriving, and a minute is long enough not to race a live worker.
    ("inbound_recover", datetime.timedelta(minutes=1), inbox_tasks.inbound_recover),
    # Daily: finished task rows are only useful for a few days of debugging.
    ("task_results_prune", datetime.timedelta(days=1), ops_tasks.task_results_prune),
]

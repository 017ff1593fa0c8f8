"""Every periodic job of Rapport, one entry per job, with why it runs at that cadence.

`manage.py scheduler` enqueues each job when it is due; the claim in
`ops.services.scheduled_job_claim` keeps that safe with several schedulers.
"""

import datetime

from django.tasks import Task

from rapport.inbox import tasks as inbox_tasks
from rapport.metrics import tasks as metrics_tasks
from rapport.onboarding import tasks as onboarding_tasks
from rapport.ops import tasks as ops_tasks
from rapport.outbox import tasks as outbox_tasks
from rapport.requests import tasks as request_tasks
from rapport.users import tasks as user_tasks

JOBS: list[tuple[str, datetime.timedelta, Task]] = [
    # Each minute, so /healthz notices a stopped worker within a few minutes.
    ("worker_heartbeat", datetime.timedelta(minutes=1), ops_tasks.worker_heartbeat),
    # Each minute: events left pending by a worker that died are processed within about
    # two minutes of arriving, and a minute is long enough not to race a live worker.
    ("inbound_recover", datetime.timedelta(minutes=1), inbox_tasks.inbound_recover),
    # Each minute, for the same reason: messages a dead worker left untriaged.
    (
        "requests_triage_recover",
        datetime.timedelta(minutes=1),
        request_tasks.requests_triage_recover,
    ),
    # Each minute: Slack calls and emails waiting out a rate limit or an outage go out
    # as soon as they are due (new ones are sent right after their change commits).
    ("outbox_deliver", datetime.timedelta(minutes=1), outbox_tasks.outbox_deliver),
    # Every 15 minutes: a nudge is due a day after assignment; a quarter hour late is fine.
    ("requests_nudge", datetime.timedelta(minutes=15), request_tasks.requests_nudge_run),
    # Hourly: auto-close counts in days.
    ("requests_auto_close", datetime.timedelta(hours=1), request_tasks.requests_auto_close_run),
    # Each minute: the directory's request figures trail the requests by about a minute; a
    # run reads only accounts whose requests changed or crossed a due date.
    (
        "metrics_refresh_changed",
        datetime.timedelta(minutes=1),
        metrics_tasks.metrics_refresh_changed_run,
    ),
    # Daily: a full recompute corrects what the incremental run cannot see (requests
    # deleted, or moved to another account other than by a conversation's move).
    ("metrics_refresh_all", datetime.timedelta(days=1), metrics_tasks.metrics_refresh_all_run),
    # Every 15 minutes, the sign-in throttle's window: failed sign-ins stop counting after
    # it, so the table holds at most about one window of them.
    ("login_throttle_prune", datetime.timedelta(minutes=15), user_tasks.login_throttle_prune_run),
    # Hourly: a handoff reminder is due days after the handoff link went out; an hour late
    # is fine, and an hour keeps it within the AE's working day.
    ("handoff_reminders", datetime.timedelta(hours=1), onboarding_tasks.handoff_reminders_run),
    # Daily: finished task rows are only useful for a few days of debugging.
    ("task_results_prune", datetime.timedelta(days=1), ops_tasks.task_results_prune),
]

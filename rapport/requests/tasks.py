"""Request tasks: thin wrappers that call the triage and automation services."""

from django.tasks import task

from rapport.requests.automations import requests_auto_close, requests_nudge
from rapport.requests.triage import triage_pending, triage_recover


# Below ingest's default priority: in a burst, storing every message comes first and
# triage catches up after; with no backlog the two never wait on each other.
@task(priority=-10)
def requests_triage() -> int:
    """Triage one batch of the messages waiting for it; enqueue the rest."""
    return triage_pending(batches=1)


@task()
def requests_triage_recover() -> int:
    """Enqueue triage for messages a dead worker left waiting."""
    return triage_recover()


@task()
def requests_auto_close_run() -> int:
    """Close requests idle longer than their auto-close duration."""
    return requests_auto_close()


@task()
def requests_nudge_run() -> int:
    """Nudge the assignees of requests open longer than the nudge duration."""
    return requests_nudge()

"""Inbox tasks: thin wrappers that take ids and call the ingest path."""

from django.tasks import task

from rapport.inbox.ingest import inbound_events_process
from rapport.inbox.services import inbound_events_recover


@task()
def inbound_process(event_ids: list[int]) -> dict[str, int]:
    """Turn stored inbound events into conversations and messages."""
    return inbound_events_process(event_ids)


@task()
def inbound_recover() -> int:
    """Enqueue events left pending by a worker that died; return how many."""
    return inbound_events_recover()

"""Outbox tasks: deliver what is due."""

from django.tasks import task

from rapport.outbox.services import outbox_deliver_due


@task()
def outbox_deliver() -> dict[str, int]:
    """Make the outside calls that are due."""
    return outbox_deliver_due()

"""Reads for the Integrations page: each registered integration's state, in a few queries."""

import datetime
from functools import cache

from rapport.inbox.selectors import (
    inbound_last_processed_at,
    inbound_waiting_by_source,
    replies_waiting_by_source,
)
from rapport.integrations.models import IntegrationHealth
from rapport.integrations.registry import integration_providers
from rapport.integrations.status import Activity, IntegrationStatus
from rapport.outbox.selectors import outbox_waiting_by_action


def integration_activity() -> Activity:
    """Read what every integration's state is told from, once for the whole page."""

    @cache
    def last_processed(source: str) -> datetime.datetime | None:
        return inbound_last_processed_at(source)

    return Activity(
        inbound=inbound_waiting_by_source(),
        outbox=outbox_waiting_by_action(),
        replies=replies_waiting_by_source(),
        health={h.key: h for h in IntegrationHealth.objects.select_related("tested_by")},
        last_processed=last_processed,
    )


def integration_statuses() -> list[IntegrationStatus]:
    """Return the state of every registered integration, in page order.

    A fixed number of queries: those of `integration_activity`, and whatever few each
    status function reads of its own settings (web chat sites, the webhook).
    """
    activity = integration_activity()
    return [provider.status(activity) for provider in integration_providers()]

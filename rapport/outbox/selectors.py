"""Reads about outside calls: the deliveries page, what each action has waiting, overdue calls.

Every function here issues a fixed number of queries, whatever the number of rows.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from rapport.core.pagination import Page
from rapport.outbox.filters import OutboxFilterSet
from rapport.outbox.handlers import HANDLERS, OutboxSubject
from rapport.outbox.models import OutboxItem, OutboxStatus

OVERDUE_SHOWN = 5
# Payload values too long or too private to show in a row of the deliveries page.
_PAYLOAD_HIDDEN = {"text", "body", "blocks", "headers", "html"}


def outbox_item_page(filters: OutboxFilterSet, *, limit: int, offset: int) -> Page:
    """Return one page of calls not sent yet, newest first, each with what it is about.

    Each item carries `subject` (an OutboxSubject or None) and `payload_summary`.
    """
    count = filters.filter(OutboxItem.objects.all()).count()
    items = list(
        filters.filter(OutboxItem.objects.defer("result")).order_by("-id")[offset : offset + limit]
    )
    outbox_items_describe(items)
    return Page(items=items, count=count, limit=limit, offset=offset)


def outbox_items_describe(items: list[OutboxItem]) -> None:
    """Set `subject` and `payload_summary` on *items*: one query per action that describes."""
    by_action: dict[str, list[OutboxItem]] = defaultdict(list)
    for item in items:
        item.subject = None  # type: ignore[attr-defined]
        item.payload_summary = payload_summary(item.payload)  # type: ignore[attr-defined]
        by_action[item.action].append(item)
    for action, group in by_action.items():
        registered = HANDLERS.get(action)
        if registered is None or registered.describe is None:
            continue
        subjects: list[OutboxSubject | None] = registered.describe([i.payload for i in group])
        for item, subject in zip(group, subjects, strict=True):
            item.subject = subject  # type: ignore[attr-defined]


def payload_summary(payload: Any, *, most: int = 160) -> str:
    """Return the short values of *payload* as "key: value" pairs, for a row of the page."""
    if not isinstance(payload, dict):
        return ""
    parts = []
    for key, value in payload.items():
        if key in _PAYLOAD_HIDDEN or isinstance(value, dict):
            continue
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        parts.append(f"{key}: {shown[:60]}")
    summary = " · ".join(parts)
    return summary if len(summary) <= most else summary[: most - 1] + "…"


@dataclass(frozen=True)
class ActionWaiting:
    """The calls of one action not sent yet: how many wait, retry and failed for good."""

    queued: int = 0
    retrying: int = 0
    failed: int = 0
    next_try_at: datetime.datetime | None = None

    @property
    def waiting(self) -> int:
        return self.queued + self.retrying


def outbox_waiting_counts(items: QuerySet[OutboxItem], by: str) -> dict[str, ActionWaiting]:
    """Group the calls of *items* not sent yet by the field *by*: queued, retrying, failed."""
    rows = (
        items.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED])
        .values(by)
        .annotate(
            queued=Count("id", filter=Q(status=OutboxStatus.PENDING, attempts=0)),
            retrying=Count("id", filter=Q(status=OutboxStatus.PENDING, attempts__gt=0)),
            failed=Count("id", filter=Q(status=OutboxStatus.FAILED)),
            next_try_at=Min("available_at", filter=Q(status=OutboxStatus.PENDING)),
        )
        .order_by()
    )
    return {
        row[by]: ActionWaiting(row["queued"], row["retrying"], row["failed"], row["next_try_at"])
        for row in rows
        if row[by]
    }


def outbox_waiting_by_action() -> dict[str, ActionWaiting]:
    """Return, for each action with calls not sent, how many are queued, retrying, failed."""
    return outbox_waiting_counts(OutboxItem.objects.all(), "action")


@dataclass(frozen=True)
class OverdueCalls:
    """Calls due for longer than the limit and not made: the dispatcher is not keeping up."""

    count: int
    oldest: list[dict[str, Any]]


def outbox_items_overdue(*, after: datetime.timedelta, shown: int = OVERDUE_SHOWN) -> OverdueCalls:
    """Return the calls due more than *after* ago and still waiting, the oldest first."""
    now = timezone.now()
    overdue = OutboxItem.objects.filter(status=OutboxStatus.PENDING, available_at__lt=now - after)
    rows = overdue.order_by("available_at", "id").values(
        "id", "action", "available_at", "attempts", "last_error"
    )[:shown]
    return OverdueCalls(
        count=overdue.count(),
        oldest=[
            {
                "id": row["id"],
                "action": row["action"],
                "overdue_seconds": int((now - row["available_at"]).total_seconds()),
                "attempts": row["attempts"],
                "error": row["last_error"][:300],
            }
            for row in rows
        ],
    )

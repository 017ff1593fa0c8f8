"""Scheduled request automations: close stale requests, nudge their assignees.

Both are set-based reads of the requests due, then the ordinary services per request,
so each closing or nudge records its activity and tells Slack like a person's would.
"""

import datetime
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rapport.requests import notices
from rapport.requests.config import RequestConfig, RequestConfigCache
from rapport.requests.models import ActivityKind, Request, RequestActivity, RequestStatus
from rapport.requests.services import request_status_set

BATCH = 200


def _scopes(configs: RequestConfigCache) -> Iterator[tuple[Q, RequestConfig]]:
    """Yield each channel with overrides, then everything else, with its settings."""
    from rapport.requests.models import ChannelRequestSettings

    overridden = list(ChannelRequestSettings.objects.values_list("channel_id", flat=True))
    for channel_id in overridden:
        yield Q(channel_id=channel_id), configs.for_channel(channel_id)
    yield ~Q(channel_id__in=overridden) | Q(channel_id__isnull=True), configs.for_channel(None)


def requests_auto_close(now: datetime.datetime | None = None) -> int:
    """Close open, waiting or on-hold requests idle for their channel's auto-close days."""
    now = now or timezone.now()
    closed = 0
    for scope, config in _scopes(RequestConfigCache()):
        if not config.auto_close_days:
            continue
        idle_since = now - datetime.timedelta(days=config.auto_close_days)
        due = (
            Request.objects.filter(scope, last_activity_at__lt=idle_since)
            .exclude(status=RequestStatus.CLOSED)
            .order_by("last_activity_at", "id")
        )
        for pk in list(due.values_list("pk", flat=True)[:10_000]):
            with transaction.atomic():
                request = (
                    Request.objects.select_for_update(of=("self",))
                    .select_related("channel", "message", "conversation")
                    .get(pk=pk)
                )
                if request.is_closed:
                    continue
                request_status_set(
                    request=request,
                    status=RequestStatus.CLOSED,
                    actor=None,
                    via="auto_close",
                    config=config,
                )
                closed += 1
    return closed


def requests_nudge(now: datetime.datetime | None = None) -> int:
    """DM the assignee of each request still open after the nudge duration, once."""
    now = now or timezone.now()
    nudged = 0
    for scope, config in _scopes(RequestConfigCache()):
        if not config.nudge_after_hours:
            continue
        due = Request.objects.filter(
            scope,
            status=RequestStatus.OPEN,
            assignee__isnull=False,
            nudged_at__isnull=True,
            assigned_at__lt=now - datetime.timedelta(hours=config.nudge_after_hours),
        ).order_by("assigned_at", "id")
        for pk in list(due.values_list("pk", flat=True)[:10_000]):
            with transaction.atomic():
                # Claimed by a conditional update, so two schedulers nudge once.
                if not Request.objects.filter(pk=pk, nudged_at__isnull=True).update(nudged_at=now):
                    continue
                request = Request.objects.select_related("assignee").get(pk=pk)
                notices.request_nudged(request, config)
                RequestActivity.objects.create(
                    request=request,
                    kind=ActivityKind.NUDGED,
                    data={"assignee": request.assignee_id},
                    at=now,
                )
                nudged += 1
    return nudged

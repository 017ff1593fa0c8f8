"""Health of the running installation."""

import datetime
import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rapport.inbox.selectors import inbound_events_stuck
from rapport.ops.middleware import RETRY_AFTER_SECONDS
from rapport.ops.models import Heartbeat
from rapport.outbox.selectors import outbox_items_overdue

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 while the database answers and the worker is alive, else 503.

    Only Rapport's own parts decide the status: an outside service that is down (Slack, the
    mail relay) shows on the Integrations page, and must not get the server restarted.
    A fresh install whose worker has not beaten yet is not failing.
    """
    try:
        # Reading the heartbeat is the database check too.
        beat = Heartbeat.objects.filter(name="worker").values_list("beat_at", flat=True).first()
    except DatabaseError:
        response = JsonResponse(
            {"status": "error", "database": "error", "worker": "unknown"}, status=503
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    stale = False
    if beat is None:
        worker = "no heartbeat yet"
    else:
        age = (timezone.now() - beat).total_seconds()
        stale = age > settings.WORKER_HEARTBEAT_MAX_AGE
        worker = f"stale ({int(age)} s)" if stale else "ok"
    return JsonResponse(
        {
            "status": "error" if stale else "ok",
            "database": "ok",
            "worker": worker,
            "worker_last_heartbeat": beat.isoformat() if beat else None,
            **_backlog(),
        },
        status=503 if stale else 200,
    )


def _backlog() -> dict[str, Any]:
    """Report events and outside calls stuck past `HEALTH_STUCK_AFTER_SECONDS`.

    Only in the body: a Slack outage leaves events waiting, and restarting Rapport would
    not bring Slack back, so the status code never depends on this.
    """
    after = datetime.timedelta(seconds=settings.HEALTH_STUCK_AFTER_SECONDS)
    try:
        events = inbound_events_stuck(after=after)
        calls = outbox_items_overdue(after=after)
    except DatabaseError as exc:
        logger.warning("/healthz could not read the backlog: %s", exc)
        return {"inbound": "unknown", "outbox": "unknown"}
    return {
        "stuck_after_seconds": settings.HEALTH_STUCK_AFTER_SECONDS,
        "inbound": {"stuck": events.count, "oldest": events.oldest},
        "outbox": {"overdue": calls.count, "oldest": calls.oldest},
    }

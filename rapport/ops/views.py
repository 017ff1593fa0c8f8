"""Health of the running installation."""

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rapport.ops.models import Heartbeat


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers; report the worker's last heartbeat."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        beat = Heartbeat.objects.filter(name="worker").values_list("beat_at", flat=True).first()
    except DatabaseError:
        return JsonResponse(
            {"status": "error", "database": "error", "worker": "unknown"}, status=503
        )
    if beat is None:
        worker = "no heartbeat yet"
    else:
        age = (timezone.now() - beat).total_seconds()
        worker = "ok" if age <= settings.WORKER_HEARTBEAT_MAX_AGE else f"stale ({int(age)} s)"
    return JsonResponse(
        {
            "status": "ok",
            "database": "ok",
            "worker": worker,
            "worker_last_heartbeat": beat.isoformat() if beat else None,
        }
    )

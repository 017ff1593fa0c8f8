"""Answer 503 with Retry-After while the database is away, never a 500.

A client that gets 503 and Retry-After knows to come back (load balancers, API clients,
Slack and the email relay all do); a 500 says the request itself was bad.
"""

import logging
import sys
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from rapport.ops.outage import database_unavailable

logger = logging.getLogger("rapport.outage")

RETRY_AFTER_SECONDS = 5
OUTAGE_MESSAGE = "The database is unavailable; nothing was changed. Try again in a few seconds."
# Paths whose clients are programs: they get JSON.
_JSON_PREFIXES = ("/api/", "/integrations/", "/webchat/api/", "/v1/", "/healthz")


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503 answer to a request that met a database outage."""
    logger.warning("Database unavailable during %s %s: %s", request.method, request.path, exc)
    response: HttpResponse
    if request.path.startswith(_JSON_PREFIXES):
        response = JsonResponse({"error": OUTAGE_MESSAGE}, status=503)
    else:
        body: str
        try:
            body = loader.render_to_string("503.html")
        except Exception:  # noqa: BLE001 - the page must answer even if rendering fails
            body = OUTAGE_MESSAGE
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseOutageMiddleware:
    """Turn a database outage met by a view into 503 with Retry-After."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if database_unavailable(exc):
            return outage_response(request, exc)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler: an outage met outside a view (a middleware) still answers 503."""
    exc = sys.exc_info()[1]
    if exc is not None and database_unavailable(exc):
        return outage_response(request, exc)
    return HttpResponse(loader.render_to_string("500.html"), status=500)

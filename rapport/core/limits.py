"""Request body limits: a body over its address's limit is refused before anything reads it.

Django refuses a form or JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE only once a view
reads it, and then with a 400 (RequestDataTooBig), while file parts and streams read
by hand are not counted at all. This middleware answers first, from the declared
`Content-Length`, with a 413 that names the limit:

- `REQUEST_BODY_LIMITS` lists `(path regex, bytes or a setting's name)` pairs; the
  first pattern that matches the path sets the limit (raw email, file uploads);
- every other path gets `REQUEST_BODY_MAX_BYTES` (the JSON API, forms, Slack, web chat).

A body sent without `Content-Length` (chunked) would reach Django as an empty body,
since Django reads only as many bytes as that header declares, so it is refused with
411 rather than silently dropped. A browser asking for HTML gets a page; everything
else gets `{"error": ...}`.
"""

import functools
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

MB = 1024 * 1024


def size_label(size: int) -> str:
    """Return *size* bytes as a person reads it: "5 MB", "1.5 MB", "64 KB"."""
    if size >= MB:
        return f"{size // MB} MB" if size % MB == 0 else f"{size / MB:.1f} MB"
    return f"{size // 1024} KB" if size >= 1024 else f"{size} bytes"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def body_limit_for(path: str) -> int:
    """Return the largest request body, in bytes, accepted at *path*."""
    for pattern, limit in settings.REQUEST_BODY_LIMITS:
        if _compiled(pattern).search(path):
            return int(getattr(settings, limit) if isinstance(limit, str) else limit)
    return int(settings.REQUEST_BODY_MAX_BYTES)


def _wants_html(request: HttpRequest) -> bool:
    return not request.path_info.startswith("/api/") and "text/html" in request.headers.get(
        "Accept", ""
    )


def _refusal(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if _wants_html(request):
        html = render_to_string(
            "request_refused.html", {"status": status, "title": title, "message": message}
        )
        return HttpResponse(html, status=status)
    return JsonResponse({"error": message}, status=status)


def body_too_large(request: HttpRequest, limit: int) -> HttpResponse:
    """Answer 413, naming the limit."""
    message = f"The request body is over the limit of {size_label(limit)} for this address."
    return _refusal(request, 413, "Too large", message)


class RequestBodyLimitMiddleware:
    """Refuse a request whose body is over its path's limit (413) or has no length (411)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = str(request.META.get("CONTENT_LENGTH") or "").strip()
        if raw:
            if not (raw.isascii() and raw.isdecimal()):
                return _refusal(
                    request,
                    400,
                    "Bad request",
                    "The Content-Length header must be a whole number of bytes.",
                )
            limit = body_limit_for(request.path_info)
            if int(raw) > limit:
                return body_too_large(request, limit)
        elif request.META.get("HTTP_TRANSFER_ENCODING"):
            return _refusal(
                request,
                411,
                "Length required",
                "Send the request body with a Content-Length header; "
                "a body without one (chunked) is not read.",
            )
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Answer Django's own refusal of a form or JSON body over its limit with 413 too."""
        if isinstance(exception, RequestDataTooBig):
            return body_too_large(request, int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
        return None

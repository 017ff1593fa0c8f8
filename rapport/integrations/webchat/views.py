"""The public face of web chat: the widget script and the API it calls from other sites.

Nothing here uses cookies or sessions: a site is named by its public key, a visitor by
the token the widget keeps, so the endpoints are exempt from CSRF (there is no ambient
credential to forge a request with). Browsers send `Origin` on every call the widget
makes; a call from an origin the site does not allow is refused before anything is
stored, and the answer carries no CORS headers, so the page cannot read it either.
"""

import datetime
import json
from collections.abc import Callable
from functools import cache, wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from rapport.core.client_ip import client_ip, client_ip_key
from rapport.core.errors import InvalidInput, ServiceError
from rapport.core.query_params import params_whole
from rapport.inbox.models import Message, MessageDirection
from rapport.integrations.webchat.ids import ChatMessageRef
from rapport.integrations.webchat.models import ChatSite, ChatVisitor
from rapport.integrations.webchat.rate_limits import RateLimitExceeded, rate_limit_hit
from rapport.integrations.webchat.selectors import (
    chat_messages_since,
    chat_site_by_key,
    chat_visitor_by_token,
)
from rapport.integrations.webchat.services import (
    chat_message_receive,
    chat_visitor_link_conversation,
    chat_visitor_start,
)

WIDGET_SCRIPT = Path(__file__).resolve().parent / "static" / "webchat" / "widget.js"
BODY_MAX_BYTES = 64 * 1024
PREFLIGHT_MAX_AGE = 600
UNKNOWN_SITE = "No active chat site has this key."

ChatView = Callable[[HttpRequest, ChatSite], HttpResponse]


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


# --- the widget script ------------------------------------------------------------------------


@cache
def _widget_source() -> bytes:
    return WIDGET_SCRIPT.read_bytes()


@require_safe
def widget_script(request: HttpRequest, public_key: str) -> HttpResponse:
    """Serve the widget for the site with *public_key*; the script reads the key from its URL."""
    if chat_site_by_key(public_key) is None:
        return HttpResponse(
            f"/* {UNKNOWN_SITE} */\n", status=404, content_type="text/javascript; charset=utf-8"
        )
    source = WIDGET_SCRIPT.read_bytes() if settings.DEBUG else _widget_source()
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    # Short: a site picks up a new widget version within minutes.
    response["Cache-Control"] = "public, max-age=300"
    # A host page that isolates itself (Cross-Origin-Embedder-Policy) may still load it.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


# --- the chat API -------------------------------------------------------------------------------


def _cors(response: HttpResponseBase, origin: str) -> HttpResponseBase:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Expose-Headers"] = "Retry-After"
    return response


def chat_endpoint(*methods: str) -> Callable[[ChatView], Callable[..., HttpResponseBase]]:
    """Resolve the site, check the caller's origin and IP rate, and add the CORS headers."""

    def decorate(view: ChatView) -> Callable[..., HttpResponseBase]:
        @csrf_exempt
        @wraps(view)
        def endpoint(request: HttpRequest, public_key: str) -> HttpResponseBase:
            site = chat_site_by_key(public_key)
            if site is None:
                response: HttpResponseBase = _error(404, UNKNOWN_SITE)
            else:
                response = _answer(request, site, view, methods)
            # The answer depends on Origin: a shared cache must not reuse it for another.
            patch_vary_headers(response, ["Origin"])
            return response

        return endpoint

    return decorate


def _answer(
    request: HttpRequest, site: ChatSite, view: ChatView, methods: tuple[str, ...]
) -> HttpResponseBase:
    origin = request.headers.get("Origin", "")
    if not origin or origin not in site.allowed_origins:
        return _error(
            403,
            f"The origin {origin or '(none)'} may not use this chat; add it to the site's "
            "allowed origins in Rapport.",
        )
    if request.method == "OPTIONS":  # a CORS preflight: nothing is stored or counted
        response: HttpResponseBase = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = ", ".join((*methods, "OPTIONS"))
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        return _cors(response, origin)
    if request.method not in methods:
        response = _error(405, f"Use {' or '.join(methods)}.")
        response["Allow"] = ", ".join((*methods, "OPTIONS"))
        return _cors(response, origin)
    try:
        rate_limit_hit(
            "ip",
            client_ip_key(client_ip(request)),
            limit=settings.WEBCHAT_IP_REQUESTS_PER_MINUTE,
            message="Too many chat requests from this network; wait a moment.",
        )
        response = view(request, site)
    except RateLimitExceeded as exc:
        response = _error(429, exc.message)
        response["Retry-After"] = str(exc.retry_after)
    except ServiceError as exc:
        response = _error(exc.status, exc.message)
    return _cors(response, origin)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if int(request.META.get("CONTENT_LENGTH") or 0) > BODY_MAX_BYTES:
        raise InvalidInput("The request is too large.")
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("Send a JSON object.") from None
    if not isinstance(data, dict):
        raise InvalidInput("Send a JSON object.")
    return data


def _text_field(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string.", field=name)
    return value


class VisitorUnknown(ServiceError):
    status = 401


def _visitor(site: ChatSite, token: str) -> ChatVisitor:
    visitor = chat_visitor_by_token(site, token)
    if visitor is None:
        raise VisitorUnknown("This chat has expired or its token is wrong; start the chat again.")
    return visitor


@chat_endpoint("POST")
def visitor_start(request: HttpRequest, site: ChatSite) -> HttpResponse:
    """`POST {email, name, user_hash}`: start a chat; answer 201 with the visitor's token.

    `user_hash` is the site backend's signature of the email; whether it verified the
    visitor is in the answer's `verified`.
    """
    data = _json_body(request)
    visitor, token = chat_visitor_start(
        site=site,
        email=_text_field(data, "email"),
        name=_text_field(data, "name"),
        ip=client_ip(request),
        user_hash=_text_field(data, "user_hash"),
    )
    return JsonResponse({"token": token, "verified": visitor.verified}, status=201)


@chat_endpoint("GET", "POST")
def chat_messages(request: HttpRequest, site: ChatSite) -> HttpResponse:
    """`POST {token, client_message_id, text}` sends; `GET ?token=&after=` polls."""
    if request.method == "POST":
        return _message_send(request, site)
    return _messages_poll(request, site)


def _message_send(request: HttpRequest, site: ChatSite) -> HttpResponse:
    data = _json_body(request)
    visitor = _visitor(site, _text_field(data, "token"))
    rate_limit_hit(
        "visitor",
        str(visitor.pk),
        limit=settings.WEBCHAT_VISITOR_MESSAGES_PER_MINUTE,
        message="You are sending messages too quickly; wait a moment.",
    )
    event, _created = chat_message_receive(
        site=site,
        visitor=visitor,
        client_message_id=_text_field(data, "client_message_id"),
        text=_text_field(data, "text"),
    )
    return JsonResponse({"id": event.payload["client_message_id"]}, status=202)


def _after(value: str) -> int | datetime.datetime | None:
    value = value.strip()
    if not value:
        return None
    if (number := params_whole(value)) is not None:
        return number
    try:
        moment = parse_datetime(value.replace(" ", "+"))  # a "+" sent unencoded
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidInput("after must be a message id or an ISO 8601 time.", field="after")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return moment


def _item(message: Message, site: ChatSite) -> dict[str, Any]:
    inbound = message.direction == MessageDirection.INBOUND
    item: dict[str, Any] = {
        "id": message.pk,
        "direction": message.direction,
        "author": message.author_name if inbound else (message.author_name or site.name),
        "text": message.text,
        "sent_at": message.sent_at.isoformat(),
    }
    if inbound:
        # The widget matches its own pending message by the id it drew for it.
        ref = ChatMessageRef.parse(message.external_id)
        item["client_message_id"] = ref.client_message_id if ref else ""
    return item


def _messages_poll(request: HttpRequest, site: ChatSite) -> HttpResponse:
    visitor = _visitor(site, request.GET.get("token", ""))
    after = _after(request.GET.get("after", ""))
    chat_visitor_link_conversation(visitor)
    items = [_item(m, site) for m in chat_messages_since(visitor, after)]
    response = JsonResponse({"items": items})
    response["Cache-Control"] = "no-store"
    return response

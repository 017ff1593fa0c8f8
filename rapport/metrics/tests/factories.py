"""Build requests through the real inbox rows and request services."""

import datetime
import itertools
from typing import Any

from django.utils import timezone

from rapport.accounts.models import Account, Contact
from rapport.inbox.models import Conversation, Message, MessageDirection, Source
from rapport.requests.models import Request, RequestOrigin
from rapport.requests.services import request_create, request_csat_record, request_status_set

_sequence = itertools.count(1)


def make_request(
    account: Account | None,
    *,
    source: str = Source.EMAIL,
    requester: Contact | None = None,
    author_name: str = "",
    author_email: str = "",
    sent_at: datetime.datetime | None = None,
    text: str = "Can you help with our export?",
) -> Request:
    """Open a request from a new customer message, with `request_create`."""
    n = next(_sequence)
    email = author_email or (requester.email if requester else f"person{n}@customer.example")
    name = author_name or (requester.name if requester else f"Person {n}")
    conversation = Conversation.objects.create(
        source=source,
        thread_key=f"thread-{n}",
        account=account,
        requester=requester,
        requester_email=email,
        requester_name=name,
        subject=f"Question {n}",
    )
    message = Message.objects.create(
        conversation=conversation,
        source=source,
        external_id=f"message-{n}",
        direction=MessageDirection.INBOUND,
        author_email=email,
        author_name=name,
        text=text,
        sent_at=sent_at or timezone.now(),
    )
    return request_create(message=message, origin=RequestOrigin.DETECTED)


def request_set(request: Request, **values: Any) -> Request:
    """Set timestamps a test needs, as the clock would have; keeps `updated_at` moving."""
    Request.objects.filter(pk=request.pk).update(updated_at=timezone.now(), **values)
    request.refresh_from_db()
    return request


def request_status(request: Request, status: str) -> Request:
    return request_status_set(request=request, status=status, actor=None)


def request_rate(request: Request, score: int) -> Request:
    """Close *request* (which asks for a rating) and record the customer's *score*."""
    if request.status != "closed":
        request = request_status(request, "closed")
    request.refresh_from_db()
    return request_csat_record(request=request, score=score, via="email")

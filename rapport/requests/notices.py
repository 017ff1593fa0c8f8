"""What a request change tells people, said without naming any channel.

The request services emit one notice per change (created, assigned, state changed,
nudged, ticket requested) in the change's transaction. Each integration subscribes
(`rapport.integrations.registry`) and turns a notice into its own messages, through the
outbox: a change that rolls back tells nobody, and one that commits is told even if a
channel is down for a while.

People are reached once: a subscriber that reached the member (or the customer) marks
it on the notice, and the subscribers after it leave that part alone.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.urls import reverse

from rapport.requests.config import RequestConfig
from rapport.requests.models import Request, RequestStatus
from rapport.users.models import User


class NoticeKind(StrEnum):
    CREATED = "created"
    ASSIGNED = "assigned"
    STATUS_CHANGED = "status_changed"
    NUDGED = "nudged"
    TICKET = "ticket"


STATUS_TEXT = {
    RequestStatus.OPEN: "This request is open again.",
    RequestStatus.WAITING: "We are waiting on your answer to go on.",
    RequestStatus.PENDING: "This request is on hold for now; we will come back to it.",
    RequestStatus.CLOSED: "This request is closed. Thanks for reaching out!",
}


@dataclass
class RequestNotice:
    """One change of a request, for the integrations to tell in their own way.

    - `tell_member` / `member_text`: a member to tell (the new assignee, a nudge);
    - `thread_text`: a status update for the customer's thread, when that is on;
    - `ask_rating`: ask the customer to rate the closed request;
    - `emoji`: the emoji that marks the customer's message;
    - `ticket_address` / `ticket_reference`: send the thread to the ticketing tool.
    """

    kind: NoticeKind
    request: Request
    config: RequestConfig
    actor: User | None = None
    via: str = ""
    tell_member: User | None = None
    member_text: str = ""
    thread_text: str = ""
    ask_rating: bool = False
    emoji: str = ""
    ticket_address: str = ""
    ticket_reference: str = ""
    # What a subscriber has done, so that the next one does not do it twice.
    reached: set[str] = field(default_factory=set)


NoticeSubscriber = Callable[[RequestNotice], None]
_SUBSCRIBERS: list[NoticeSubscriber] = []


def notice_subscribe(subscriber: NoticeSubscriber) -> None:
    """Have *subscriber* called with every request notice, in the change's transaction."""
    if subscriber not in _SUBSCRIBERS:
        _SUBSCRIBERS.append(subscriber)


def notice_emit(notice: RequestNotice) -> RequestNotice:
    """Hand *notice* to every subscriber, in the order they subscribed."""
    for subscriber in _SUBSCRIBERS:
        subscriber(notice)
    return notice


def request_url(request: Request) -> str:
    """Return the request's page as an absolute link, for messages sent outside."""
    return settings.SITE_URL.rstrip("/") + reverse("requests:detail", args=[request.pk])


def request_created(request: Request, config: RequestConfig) -> None:
    notice_emit(RequestNotice(NoticeKind.CREATED, request, config))


def request_assigned(
    request: Request,
    config: RequestConfig,
    *,
    actor: User | None,
    previous: int | None,
    via: str,
) -> None:
    notice = RequestNotice(NoticeKind.ASSIGNED, request, config, actor=actor, via=via)
    assignee = request.assignee
    if assignee is not None:
        # Whoever gets a request hears of it, except a member who took it themselves.
        if config.dm_assignee and (assignee != actor or via == "first_responder"):
            who = actor.display_name if actor else "Rapport"
            notice.tell_member = assignee
            notice.member_text = (
                f"{who} assigned you a request from {request.requester_name or 'a customer'}"
            )
        if config.emoji_enabled and previous is None:
            notice.emoji = config.emoji_assigned
        if config.status_updates:
            notice.thread_text = f"{assignee.display_name} is looking into this."
    notice_emit(notice)


def request_status_changed(
    request: Request, config: RequestConfig, *, previous: str, actor: User | None
) -> None:
    notice = RequestNotice(NoticeKind.STATUS_CHANGED, request, config, actor=actor)
    if request.status == RequestStatus.CLOSED:
        if config.emoji_enabled:
            notice.emoji = config.emoji_closed
        # The service has set `csat_requested_at`, which the survey's link signs.
        notice.ask_rating = config.csat_enabled and request.csat_requested_at is not None
    if config.status_updates:
        notice.thread_text = STATUS_TEXT[RequestStatus(request.status)]
    notice_emit(notice)


def request_nudged(request: Request, config: RequestConfig) -> None:
    if request.assignee is not None:
        notice_emit(
            RequestNotice(
                NoticeKind.NUDGED,
                request,
                config,
                tell_member=request.assignee,
                member_text="A request assigned to you is still open; close it if it is done",
            )
        )


def ticket_requested(request: Request, config: RequestConfig, address: str, *, actor: User) -> str:
    """Ask for the thread to be sent to the ticketing tool; return the ticket's reference.

    The reference is the Message-ID of the email that creates the ticket.
    """
    reference = f"<request-{request.pk}-{uuid.uuid4().hex[:12]}@rapport>"
    notice_emit(
        RequestNotice(
            NoticeKind.TICKET,
            request,
            config,
            actor=actor,
            ticket_address=address,
            ticket_reference=reference,
        )
    )
    return reference

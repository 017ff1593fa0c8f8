"""What a request change tells people: Slack cards, DMs, emoji, thread updates, emails.

Every call goes through the outbox, in the transaction of the change, so a change that
rolls back tells nobody and one that commits is told even if Slack is down for a while.
The Slack handlers (`rapport.slack.outbox_handlers`) render the messages from the
request as it is when they run.
"""

import uuid
from email.utils import make_msgid

from django.conf import settings
from django.urls import reverse

from rapport.inbox.models import Message, Source
from rapport.outbox.services import outbox_add
from rapport.requests.config import RequestConfig
from rapport.requests.models import Request, RequestStatus
from rapport.users.models import User

STATUS_TEXT = {
    RequestStatus.OPEN: "This request is open again.",
    RequestStatus.WAITING: "We are waiting on your answer to go on.",
    RequestStatus.PENDING: "This request is on hold for now; we will come back to it.",
    RequestStatus.CLOSED: "This request is closed. Thanks for reaching out!",
}


def slack_message_ref(message: Message | None) -> tuple[str, str] | None:
    """Return (channel id, ts) of a Slack message, from its "team:channel:ts" id."""
    if message is None or message.source != Source.SLACK:
        return None
    parts = message.external_id.split(":")
    return (parts[1], parts[2]) if len(parts) == 3 else None


def slack_thread_ref(request: Request) -> tuple[str, str] | None:
    """Return (channel id, thread ts) of the Slack thread the request lives in."""
    if request.source != Source.SLACK:
        return None
    parts = request.conversation.thread_key.split(":")
    return (parts[1], parts[2]) if len(parts) == 3 else None


def request_url(request: Request) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("requests:detail", args=[request.pk])


def _card(request: Request, config: RequestConfig) -> None:
    if config.triage_channel_id or request.notification_ts:
        outbox_add(
            "slack.request_card",
            {
                "request_id": request.pk,
                "channel": request.notification_channel or config.triage_channel_id,
            },
        )


def _reaction(request: Request, name: str) -> None:
    ref = slack_message_ref(request.message)
    if ref and name:
        outbox_add("slack.reaction", {"channel": ref[0], "timestamp": ref[1], "name": name})


def _thread_post(request: Request, text: str) -> None:
    ref = slack_thread_ref(request)
    if ref:
        outbox_add("slack.thread_post", {"channel": ref[0], "thread_ts": ref[1], "text": text})


def _tell_member(member: User, request: Request, text: str, *, kind: str) -> None:
    """DM *member* in Slack when Rapport knows their Slack id, else email them."""
    if member.slack_user_id:
        outbox_add(
            "slack.dm",
            {"user": member.slack_user_id, "request_id": request.pk, "text": text, "kind": kind},
        )
    elif member.email:
        outbox_add(
            "email.send",
            {
                "to": [member.email],
                "subject": f"[Rapport] {text}",
                "body": f"{text}\n\n{request.title}\n\nOpen it: {request_url(request)}\n",
            },
        )


def request_created(request: Request, config: RequestConfig) -> None:
    _card(request, config)


def request_assigned(
    request: Request,
    config: RequestConfig,
    *,
    actor: User | None,
    previous: int | None,
    via: str,
) -> None:
    _card(request, config)
    assignee = request.assignee
    if assignee is None:
        return
    # Whoever gets a request hears of it, except a member who took it themselves.
    if config.dm_assignee and (assignee != actor or via == "first_responder"):
        who = actor.display_name if actor else "Rapport"
        _tell_member(
            assignee,
            request,
            f"{who} assigned you a request from {request.requester_name or 'a customer'}",
            kind="assigned",
        )
    if via == "first_responder" and assignee.slack_user_id and slack_thread_ref(request):
        # The responder gets the request's actions in its thread, visible to them alone.
        outbox_add(
            "slack.thread_actions", {"request_id": request.pk, "user": assignee.slack_user_id}
        )
    if config.emoji_enabled and previous is None:
        _reaction(request, config.emoji_assigned)
    if config.status_updates:
        _thread_post(request, f"{assignee.display_name} is looking into this.")


def request_status_changed(
    request: Request, config: RequestConfig, *, previous: str, actor: User | None
) -> None:
    _card(request, config)
    if request.status == RequestStatus.CLOSED:
        if config.emoji_enabled:
            _reaction(request, config.emoji_closed)
        if config.csat_enabled:
            csat_request(request)
    if config.status_updates:
        _thread_post(request, STATUS_TEXT[RequestStatus(request.status)])


def csat_request(request: Request) -> None:
    """Ask the customer to rate the closed request: buttons in Slack, a link by email.

    The service has set `csat_requested_at`, which the link signs.
    """
    from rapport.requests.csat import csat_url

    if request.csat_requested_at is None:
        return
    if request.source == Source.SLACK:
        outbox_add("slack.csat_survey", {"request_id": request.pk})
    elif request.requester_email:
        outbox_add(
            "email.send",
            {
                "to": [request.requester_email],
                "subject": f"How did we do? {request.title}"[:200],
                "body": (
                    f"Hello {request.requester_name or 'there'},\n\n"
                    f"Your request \u201c{request.title}\u201d is now closed. "
                    "How satisfied are you with the help you got? One click tells us:\n\n"
                    f"{csat_url(request)}\n\nThank you!\n"
                ),
            },
            key=f"csat:{request.pk}:{request.csat_requested_at.isoformat()}",
        )


def request_nudged(request: Request) -> None:
    if request.assignee is not None:
        _tell_member(
            request.assignee,
            request,
            "A request assigned to you is still open; close it if it is done",
            kind="nudge",
        )


def ticket_send(request: Request, address: str, *, actor: User) -> str:
    """Queue the email that creates the ticket; return its Message-ID (the ticket link)."""
    reference = make_msgid(
        idstring=f"request-{request.pk}-{uuid.uuid4().hex[:8]}", domain="rapport"
    )
    lines = [
        f"Request #{request.pk}: {request.title}",
        f"Account: {request.account.name if request.account else 'not mapped'}",
        f"Requester: {request.requester_name} <{request.requester_email}>".strip(),
        f"Source: {request.get_source_display()}",
        f"Opened: {request.created_at.isoformat()}",
        f"In Rapport: {request_url(request)}",
        "",
        "Thread:",
    ]
    messages = request.conversation.messages.filter(deleted_at__isnull=True).order_by(
        "sent_at", "id"
    )
    for message in messages[:200]:
        author = message.author_name or message.author_email or "unknown"
        lines.append(f"--- {author}, {message.sent_at:%Y-%m-%d %H:%M} UTC")
        lines.append(message.text)
    outbox_add(
        "email.send",
        {
            "to": [address],
            "subject": f"[Rapport #{request.pk}] {request.title}"[:250],
            "body": "\n".join(lines) + "\n",
            "headers": {"Message-ID": reference},
            "reply_to": [request.requester_email] if request.requester_email else [],
        },
        key=f"ticket:{request.pk}",
    )
    return reference

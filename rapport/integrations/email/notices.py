"""How email tells of request changes: members without Slack, rating links, tickets.

Subscribed after Slack (`rapport.integrations.registry`): it emails a member or a
customer whom no channel before it reached.
"""

from rapport.outbox.services import outbox_add
from rapport.requests.models import Request
from rapport.requests.notices import NoticeKind, RequestNotice, request_url


def request_notice_to_email(notice: RequestNotice) -> None:
    """Queue the emails that tell of *notice*."""
    request = notice.request
    member = notice.tell_member
    reach_member = member is not None and member.email and notice.member_text
    if reach_member and "member" not in notice.reached:
        assert member is not None
        text = notice.member_text
        outbox_add(
            "email.send",
            {
                "to": [member.email],
                "subject": f"[Rapport] {text}",
                "body": f"{text}\n\n{request.title}\n\nOpen it: {request_url(request)}\n",
            },
        )
        notice.reached.add("member")
    if notice.ask_rating and "customer" not in notice.reached and request.requester_email:
        _rating_ask(request)
        notice.reached.add("customer")
    if notice.kind == NoticeKind.TICKET:
        _ticket_send(request, notice.ticket_address, notice.ticket_reference)


def _rating_ask(request: Request) -> None:
    """Email the customer a one-click rating link for the closed request."""
    from rapport.requests.csat import csat_url

    assert request.csat_requested_at is not None
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


def _ticket_send(request: Request, address: str, reference: str) -> None:
    """Email the request's thread to the ticketing tool, with *reference* as Message-ID."""
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

"""Build conversations through the real ingest path, then triage them as the worker does."""

import datetime
import itertools
from typing import Any

from django.utils import timezone

from rapport.inbox.adapters import IncomingMessage
from rapport.inbox.batch import message_ingest
from rapport.inbox.models import Channel, Message, Source
from rapport.mapping.engine import MappingContext
from rapport.requests.models import Request, RequestMessage
from rapport.requests.triage import triage_pending
from rapport.users.models import User

_ts = itertools.count(1_700_000_000)
BASE = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)


def slack_post(
    channel: Channel,
    text: str,
    *,
    at: datetime.datetime | None = None,
    thread: Message | None = None,
    customer: str = "U0CUSTOMER",
    email: str = "jane@acme.example",
    name: str = "Jane Customer",
    member: User | None = None,
    triage: bool = True,
) -> Message:
    """Store a Slack message in *channel* (a reply when *thread* is given) and triage it."""
    ts = f"{next(_ts)}.000100"
    team, channel_id = channel.slack_team_id, channel.slack_channel_id
    thread_ts = thread.external_id.split(":")[2] if thread is not None else ts
    incoming = IncomingMessage(
        source=Source.SLACK,
        external_id=f"{team}:{channel_id}:{ts}",
        thread_key=f"{team}:{channel_id}:{thread_ts}",
        text=text,
        subject=text[:80],
        sent_at=at or timezone.now(),
        author_email=member.email if member else email,
        author_name=member.display_name if member else name,
        author_external_id=(member.slack_user_id if member else customer),
        author_user_id=member.pk if member else None,
        channel=channel,
    )
    message_ingest(incoming, MappingContext.load())
    if triage:
        triage_pending()
    return Message.objects.get(source=Source.SLACK, external_id=incoming.external_id)


def email_post(
    text: str,
    *,
    subject: str = "Question",
    sender: str = "sam@globex.example",
    at: datetime.datetime | None = None,
    thread_key: str | None = None,
    member: User | None = None,
    **extra: Any,
) -> Message:
    """Store an email (a new thread unless *thread_key* names one) and triage it."""
    n = next(_ts)
    incoming = IncomingMessage(
        source=Source.EMAIL,
        external_id=f"<m{n}@mail.example>",
        thread_key=thread_key or f"<m{n}@mail.example>",
        text=text,
        subject=subject,
        sent_at=at or timezone.now(),
        author_email=member.email if member else sender,
        author_name=member.display_name if member else sender.split("@")[0].title(),
        author_user_id=member.pk if member else None,
        **extra,
    )
    message_ingest(incoming, MappingContext.load())
    triage_pending()
    return Message.objects.get(source=Source.EMAIL, external_id=incoming.external_id)


def request_of(message: Message) -> Request | None:
    """Return the request *message* belongs to, if any."""
    link = RequestMessage.objects.filter(message=message).select_related("request").first()
    return link.request if link else None


def page_text(response: Any) -> str:
    """Return the body of a page answer as text."""
    return response.content.decode()

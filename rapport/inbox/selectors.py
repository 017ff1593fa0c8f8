"""Reads for the inbox, the conversation page, the channels page and their API.

Every function here issues a fixed number of queries, whatever the page size.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BigIntegerField,
    Count,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Lower, Substr
from django.utils import timezone

from rapport.accounts.models import Account
from rapport.core.errors import NotFound
from rapport.core.pagination import Page
from rapport.inbox.filters import ConversationFilterSet
from rapport.inbox.models import (
    Channel,
    Conversation,
    DeliveryStatus,
    InboundEvent,
    InboundEventStatus,
    Message,
    MessageDirection,
)
from rapport.inbox.services import DELIVER_ACTION
from rapport.mapping.models import MappingDecision
from rapport.outbox.models import OutboxItem
from rapport.outbox.selectors import ActionWaiting, outbox_waiting_counts
from rapport.users.models import User

FIRST_LINE_CHARS = 200
# Earlier messages a reply is threaded under (email's References keep about 20).
REPLY_CONTEXT_MESSAGES = 50
ACCOUNT_CHOICES = 10


def conversation_queryset() -> QuerySet[Conversation]:
    """Return conversations with what an inbox row shows: account, channel, first line."""
    first_text = (
        Message.objects.filter(conversation=OuterRef("pk"))
        .order_by("sent_at", "id")
        .values("text")[:1]
    )
    return Conversation.objects.select_related("account", "channel", "requester").annotate(
        first_line=Substr(Subquery(first_text), 1, FIRST_LINE_CHARS)
    )


def conversation_page(filters: ConversationFilterSet, *, limit: int, offset: int) -> Page:
    """Return one page of conversations that match *filters*, newest activity first."""
    count = filters.filter(Conversation.objects.all()).count()
    rows = filters.filter(conversation_queryset()).order_by("-last_message_at", "-id")
    return Page(items=list(rows[offset : offset + limit]), count=count, limit=limit, offset=offset)


def conversation_get(conversation_id: int) -> Conversation:
    """Return one conversation with its account, or raise NotFound."""
    conversation = Conversation.objects.select_related("account").filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound(f"No conversation with id {conversation_id}.")
    return conversation


def conversation_detail(conversation_id: int) -> Conversation:
    """Return one conversation with its messages and every mapping decision, or raise NotFound.

    The messages come in order as `messages_shown`; the decisions newest first as
    `decisions_shown`, the first of them being the decision in force.
    """
    conversation = (
        Conversation.objects.select_related("account", "channel", "requester")
        .prefetch_related(
            Prefetch(
                "messages",
                queryset=Message.objects.select_related(
                    "author_user", "request_link__request"
                ).order_by("sent_at", "id"),
                to_attr="messages_shown",
            ),
            Prefetch(
                "mapping_decisions",
                queryset=MappingDecision.objects.select_related(
                    "account", "previous_account", "actor"
                ).order_by("-created_at", "-id"),
                to_attr="decisions_shown",
            ),
        )
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise NotFound(f"No conversation with id {conversation_id}.")
    return conversation


def conversation_messages_page(conversation_id: int, *, limit: int, offset: int) -> Page:
    """Return a page of a conversation's messages, oldest first, or raise NotFound."""
    if not Conversation.objects.filter(pk=conversation_id).exists():
        raise NotFound(f"No conversation with id {conversation_id}.")
    messages = Message.objects.filter(conversation_id=conversation_id).order_by("sent_at", "id")
    items = list(messages[offset : offset + limit])
    count = len(items) + offset if len(items) < limit and (items or not offset) else None
    return Page(items, count if count is not None else messages.count(), limit, offset)


def account_search(q: str, *, limit: int = ACCOUNT_CHOICES) -> list[Account]:
    """Return the first accounts, by name, whose name, domains or contacts match every word."""
    words = " ".join((q or "").split()).lower()[:200].split()
    if not words:
        return []
    accounts = Account.objects.all()
    for word in words:
        accounts = accounts.filter(search_text__contains=word)
    return list(accounts.order_by(Lower("name"), "id")[:limit])


def channel_queryset() -> QuerySet[Channel]:
    """Return channels with their CSM and linked accounts, by name."""
    return (
        Channel.objects.select_related("csm")
        .prefetch_related(
            Prefetch(
                "accounts",
                queryset=Account.objects.order_by(Lower("name"), "id"),
                to_attr="accounts_shown",
            )
        )
        .order_by("name", "id")
    )


def channel_page(*, limit: int, offset: int) -> Page:
    """Return one page of Slack channels with their linked accounts."""
    count = Channel.objects.count()
    return Page(
        items=list(channel_queryset()[offset : offset + limit]),
        count=count,
        limit=limit,
        offset=offset,
    )


def channel_choices() -> list[Channel]:
    """Return every channel by name, for the inbox's channel filter."""
    return list(Channel.objects.only("id", "name").order_by("name", "id"))


def channel_get(channel_id: int) -> Channel:
    """Return one channel with its linked accounts, or raise NotFound."""
    channel = channel_queryset().filter(pk=channel_id).first()
    if channel is None:
        raise NotFound(f"No Slack channel with id {channel_id}.")
    return channel


def members_active() -> list[User]:
    """Return the active members, for "assign to" choices."""
    return list(User.objects.filter(is_active=True).order_by("name", "email"))


def message_for_delivery(message_id: int) -> Message | None:
    """Return a reply with its conversation and author, as its channel sends it."""
    return (
        Message.objects.select_related("conversation", "author_user").filter(pk=message_id).first()
    )


@dataclass(frozen=True)
class ReplyContext:
    """What a channel needs to thread a reply: whom it answers, and what came before."""

    thread_key: str
    subject: str
    customer_email: str
    customer_name: str
    answered_id: str  # the external id of the customer's latest message before the reply
    earlier_ids: list[str]  # external ids of the thread's latest messages, oldest first


def conversation_reply_context(reply: Message) -> ReplyContext:
    """Return the threading context of *reply*: the messages sent before it, in order."""
    conversation = reply.conversation
    newest_first = (
        Message.objects.filter(conversation_id=conversation.pk, sent_at__lte=reply.sent_at)
        .exclude(pk=reply.pk)
        .exclude(delivery_status__in=[DeliveryStatus.QUEUED, DeliveryStatus.FAILED])
        .order_by("-sent_at", "-id")
        .values_list("external_id", "direction", "author_email", "author_name")
    )
    # The thread's root is its key; a reply names no more than the latest before it.
    earlier = list(reversed(newest_first[:REPLY_CONTEXT_MESSAGES]))
    customer = [row for row in earlier if row[1] == MessageDirection.INBOUND]
    latest = customer[-1] if customer else None
    return ReplyContext(
        thread_key=conversation.thread_key,
        subject=conversation.subject,
        customer_email=conversation.requester_email or (latest[2] if latest else ""),
        customer_name=conversation.requester_name or (latest[3] if latest else ""),
        answered_id=latest[0] if latest else "",
        earlier_ids=[row[0] for row in earlier],
    )


def reply_conversations(message_ids: list[int]) -> dict[int, Conversation]:
    """Return the conversation of each reply in *message_ids*, by message id, in one query."""
    if not message_ids:
        return {}
    rows = Message.objects.filter(pk__in=message_ids).select_related("conversation")
    return {message.pk: message.conversation for message in rows.only("id", "conversation")}


def replies_waiting_by_source() -> dict[str, ActionWaiting]:
    """Return, by channel, the team replies whose outside call is queued, retrying or failed.

    One query: the outbox items of `message.deliver` joined to their reply's channel.
    """
    message_id = Cast(KeyTextTransform("message_id", "payload"), BigIntegerField())
    source = Subquery(Message.objects.filter(pk=OuterRef("message_pk")).values("source")[:1])
    replies = (
        OutboxItem.objects.filter(action=DELIVER_ACTION)
        .annotate(message_pk=message_id)
        .annotate(source=source)
    )
    return outbox_waiting_counts(replies, "source")


# --- inbound events waiting: the integrations page and /healthz --------------------------

STUCK_SHOWN = 5
# How far back the last processed event of a source is looked for.
LAST_DONE_WINDOW = datetime.timedelta(days=30)


@dataclass(frozen=True)
class InboundWaiting:
    """The events of one source not processed yet, and the last try's error of the latest."""

    waiting: int = 0
    failing: int = 0  # waiting, with an error from their last try
    failed: int = 0  # gave up on, in the last day
    oldest_at: datetime.datetime | None = None
    last_error: str = ""
    last_error_received_at: datetime.datetime | None = None


def inbound_waiting_by_source() -> dict[str, InboundWaiting]:
    """Return, by source, the events waiting (and failing) and those given up on in a day.

    One query for the counts, and one for the latest error of each source that has one.
    """
    since = timezone.now() - datetime.timedelta(days=1)
    unfinished = Q(status=InboundEventStatus.PENDING) | Q(
        status=InboundEventStatus.FAILED, processed_at__gte=since
    )
    rows = (
        InboundEvent.objects.filter(unfinished)
        .values("source")
        .annotate(
            waiting=Count("id", filter=Q(status=InboundEventStatus.PENDING)),
            failing=Count("id", filter=Q(status=InboundEventStatus.PENDING) & ~Q(error="")),
            failed=Count("id", filter=Q(status=InboundEventStatus.FAILED)),
            oldest_at=Min("received_at", filter=Q(status=InboundEventStatus.PENDING)),
        )
        .order_by()
    )
    counts = {row["source"]: row for row in rows}
    errors: dict[str, tuple[str, datetime.datetime]] = {}
    for source, row in counts.items():
        if row["failing"] or row["failed"]:
            latest = (
                InboundEvent.objects.filter(unfinished, source=source)
                .exclude(error="")
                .order_by("-received_at", "-id")
                .values_list("error", "received_at")
                .first()
            )
            if latest is not None:
                errors[source] = latest
    return {
        source: InboundWaiting(
            waiting=row["waiting"],
            failing=row["failing"],
            failed=row["failed"],
            oldest_at=row["oldest_at"],
            last_error=errors.get(source, ("", None))[0],
            last_error_received_at=errors.get(source, ("", None))[1],
        )
        for source, row in counts.items()
    }


def inbound_last_processed_at(source: str) -> datetime.datetime | None:
    """Return when the latest event of *source* received in the last 30 days was processed."""
    since = timezone.now() - LAST_DONE_WINDOW
    return (
        InboundEvent.objects.filter(
            status=InboundEventStatus.DONE, received_at__gte=since, source=source
        )
        .order_by("-received_at", "-id")
        .values_list("processed_at", flat=True)
        .first()
    )


@dataclass(frozen=True)
class StuckEvents:
    """Events waiting longer than the limit: the worker or an outside service is failing."""

    count: int
    oldest: list[dict[str, Any]]


def inbound_events_stuck(*, after: datetime.timedelta, shown: int = STUCK_SHOWN) -> StuckEvents:
    """Return the events received more than *after* ago and not processed, the oldest first."""
    now = timezone.now()
    stuck = InboundEvent.objects.filter(
        status=InboundEventStatus.PENDING, received_at__lt=now - after
    )
    rows = stuck.order_by("received_at", "id").values(
        "id", "source", "received_at", "attempts", "error"
    )[:shown]
    return StuckEvents(
        count=stuck.count(),
        oldest=[
            {
                "id": row["id"],
                "source": row["source"],
                "age_seconds": int((now - row["received_at"]).total_seconds()),
                "attempts": row["attempts"],
                "error": row["error"][:300],
            }
            for row in rows
        ],
    )

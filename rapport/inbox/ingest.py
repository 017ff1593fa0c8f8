"""The ingest path after storage: normalize, thread, map, store the message.

Channel adapters store an InboundEvent and enqueue `inbound_process`; this module
turns pending events into conversations and messages. Each event is handled in its
own savepoint and marked done in the same transaction as its message, so a crash
leaves it pending (and the recovery job picks it up) and a retry finds it done.
"""

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.services import contact_add_to_account
from rapport.errors import InvalidInput
from rapport.inbox.models import (
    Channel,
    Conversation,
    InboundEvent,
    InboundEventStatus,
    Message,
    MessageDirection,
)
from rapport.mapping.engine import MappingContext, MappingRequest
from rapport.mapping.services import mapping_decide

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class EventRejected(Exception):
    """The event can never become a message; `reason` is recorded on the event."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class IncomingMessage:
    """A message normalized from any channel."""

    source: str
    external_id: str
    thread_key: str
    text: str
    sent_at: datetime.datetime
    author_email: str = ""
    author_name: str = ""
    author_external_id: str = ""
    author_user_id: int | None = None
    subject: str = ""
    channel: Channel | None = None
    account_id: int | None = None
    customer_ref: str = ""
    parent_ids: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    action: str = "create"  # create | edit | delete

    @property
    def from_team(self) -> bool:
        return self.author_user_id is not None


Normalizer = Callable[[InboundEvent], IncomingMessage | None]
NORMALIZERS: dict[str, Normalizer] = {}


def normalizer(source: str) -> Callable[[Normalizer], Normalizer]:
    """Register the function that turns a *source* event into an IncomingMessage."""

    def register(function: Normalizer) -> Normalizer:
        NORMALIZERS[source] = function
        return function

    return register


def inbound_events_process(event_ids: Iterable[int]) -> dict[str, int]:
    """Process the given pending events; return how many ended in each state."""
    ids = list(event_ids)
    counts: dict[str, int] = {}
    if not ids:
        return counts
    context = MappingContext.load()
    with transaction.atomic():
        events = InboundEvent.objects.filter(pk__in=ids, status=InboundEventStatus.PENDING)
        if connection.features.has_select_for_update_skip_locked:
            # Two workers given overlapping ids split them instead of waiting.
            events = events.select_for_update(skip_locked=True)
        for event in events.order_by("received_at", "id"):
            status = _process_one(event, context)
            counts[status] = counts.get(status, 0) + 1
    return counts


def _process_one(event: InboundEvent, context: MappingContext) -> str:
    event.attempts += 1
    try:
        with transaction.atomic():
            incoming = NORMALIZERS[event.source](event)
            conversation = message_ingest(incoming, context, event) if incoming else None
            event.status = InboundEventStatus.DONE if conversation else InboundEventStatus.IGNORED
            event.error = ""
    except EventRejected as exc:
        event.status, event.error = InboundEventStatus.REJECTED, exc.reason[:2000]
    except Exception as exc:  # noqa: BLE001 - one bad event must not block the batch
        logger.exception("Processing inbound event %s failed", event.pk)
        event.error = f"{type(exc).__name__}: {exc}"[:2000]
        event.status = (
            InboundEventStatus.FAILED
            if event.attempts >= MAX_ATTEMPTS
            else InboundEventStatus.PENDING
        )
    if event.status != InboundEventStatus.PENDING:
        event.processed_at = timezone.now()
    event.save(update_fields=["status", "error", "attempts", "processed_at"])
    return str(event.status)


def _find_conversation(incoming: IncomingMessage) -> Conversation | None:
    conversation = Conversation.objects.filter(
        source=incoming.source, thread_key=incoming.thread_key
    ).first()
    if conversation is None and incoming.parent_ids:
        parent = (
            Message.objects.filter(source=incoming.source, external_id__in=incoming.parent_ids)
            .select_related("conversation")
            .order_by("-sent_at")
            .first()
        )
        conversation = parent.conversation if parent else None
    return conversation


def message_ingest(
    incoming: IncomingMessage, context: MappingContext, event: InboundEvent | None = None
) -> Conversation | None:
    """Store *incoming* in its conversation; map a new conversation to its account."""
    if incoming.action in ("edit", "delete"):
        return _message_change(incoming)
    if Message.objects.filter(source=incoming.source, external_id=incoming.external_id).exists():
        return _find_conversation(incoming)  # the same message from another delivery
    conversation = _find_conversation(incoming)
    created = conversation is None
    if conversation is None:
        conversation = Conversation.objects.create(
            source=incoming.source,
            thread_key=incoming.thread_key,
            channel=incoming.channel,
            subject=incoming.subject[:500],
            requester_email="" if incoming.from_team else incoming.author_email,
            requester_name="" if incoming.from_team else incoming.author_name,
            last_message_at=incoming.sent_at,
        )
    Message.objects.create(
        conversation=conversation,
        source=incoming.source,
        external_id=incoming.external_id,
        event=event,
        direction=MessageDirection.OUTBOUND if incoming.from_team else MessageDirection.INBOUND,
        author_email=incoming.author_email,
        author_name=incoming.author_name,
        author_external_id=incoming.author_external_id,
        author_user_id=incoming.author_user_id,
        text=incoming.text,
        attachments=incoming.attachments,
        sent_at=incoming.sent_at,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1,
        last_message_at=incoming.sent_at,
    )
    needs_mapping = created or (not conversation.mapping_outcome and not incoming.from_team)
    if needs_mapping:
        if not incoming.from_team and not conversation.requester_email:
            conversation.requester_email = incoming.author_email
            conversation.requester_name = incoming.author_name
        decision = mapping_decide(
            conversation,
            MappingRequest(
                requester_email="" if incoming.from_team else incoming.author_email,
                account_id=incoming.account_id,
                customer_ref=incoming.customer_ref,
                channel_id=incoming.channel.pk if incoming.channel else None,
                source=incoming.source,
            ),
            context,
        )
        conversation.refresh_from_db()
        if decision.account is not None and conversation.requester_email:
            _requester_link(conversation, decision.account)
    elif conversation.account_id and not incoming.from_team and incoming.author_email:
        # A new customer voice in a linked conversation becomes a contact too.
        _requester_link(
            conversation, conversation.account, incoming.author_email, incoming.author_name
        )
    return conversation


def _requester_link(
    conversation: Conversation, account: Any, email: str = "", name: str = ""
) -> None:
    email = email or conversation.requester_email
    try:
        contact = contact_add_to_account(
            account=account, email=email, name=name or conversation.requester_name
        )
    except InvalidInput:
        return  # an address Rapport cannot store as a contact stays on the message only
    if email == conversation.requester_email and conversation.requester_id != contact.pk:
        Conversation.objects.filter(pk=conversation.pk).update(requester=contact)


def _message_change(incoming: IncomingMessage) -> Conversation | None:
    message = (
        Message.objects.filter(source=incoming.source, external_id=incoming.external_id)
        .select_related("conversation")
        .first()
    )
    if message is None:
        return None
    if incoming.action == "edit":
        message.text = incoming.text
        message.edited_at = incoming.sent_at
        message.save(update_fields=["text", "edited_at"])
    else:
        message.deleted_at = incoming.sent_at
        message.save(update_fields=["deleted_at"])
    return message.conversation


def inbound_event_process_now(event: InboundEvent) -> None:
    """Process *event* in the current request when it is still pending.

    For the API faces whose answer needs the result (the ticket's mapping, the email's
    conversation). A worker that also picks the event up later finds it done.
    """
    if event.status == InboundEventStatus.PENDING:
        inbound_events_process([event.pk])
        event.refresh_from_db()

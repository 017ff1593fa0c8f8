"""The ingest path after storage: normalize, thread, map, store the message.

Channel adapters store an InboundEvent and enqueue `inbound_process`; this module
turns pending events into conversations and messages. Events are marked done in the
same transaction as their messages, so a crash leaves them pending (and the recovery
job picks them up) and a retry finds them done.

A batch of events is planned in memory, in the order the events arrived, and written
with a few statements per table: the mapping engine and the plan remember what earlier
events of the batch created (conversations, accounts, contacts), so each event sees
the same state as if the events had been stored one by one. If anything in the batch
fails, the whole batch is rolled back to its savepoint and its events are processed
one at a time, each in its own savepoint, so one bad event cannot block the others.
"""

import datetime
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import Account
from rapport.accounts.services_contacts import ContactLink, contacts_add_to_accounts
from rapport.inbox.adapters import EventRejected, IncomingMessage, source_adapter
from rapport.inbox.models import (
    Conversation,
    DeliveryStatus,
    InboundEvent,
    InboundEventStatus,
    Message,
    MessageDirection,
)
from rapport.mapping.engine import (
    MappingContext,
    MappingRequest,
    MappingResult,
    contact_address,
    mapping_resolve,
)
from rapport.mapping.models import MappingMethod
from rapport.mapping.services import mapping_decision_apply, mapping_decisions_record

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


MessageHook = Callable[[Sequence[Message]], None]
MESSAGE_HOOKS: list[MessageHook] = []


def message_hook_register(hook: MessageHook) -> None:
    """Have *hook* called with every batch of new messages, in their storing transaction."""
    if hook not in MESSAGE_HOOKS:
        MESSAGE_HOOKS.append(hook)


def messages_stored(messages: Sequence[Message]) -> None:
    """Tell the registered hooks about *messages*, just stored (with their ids)."""
    if messages:
        for hook in MESSAGE_HOOKS:
            hook(messages)


def inbound_events_process(event_ids: Iterable[int]) -> dict[str, int]:
    """Process the given pending events; return how many ended in each state."""
    return _events_process(list(event_ids), wait=False)


def inbound_event_process_now(event: InboundEvent) -> None:
    """Process *event* in the current request when it is still pending.

    For the API faces whose answer needs the result (the ticket's mapping, the email's
    conversation). When a worker holds the event, wait for it rather than skip it: a
    retried ticket then answers with the ticket the first delivery created. A worker
    that picks the event up later finds it done.
    """
    if event.status == InboundEventStatus.PENDING:
        _events_process([event.pk], wait=True, known=[event])
        event.refresh_from_db()


_ERROR = "error"  # an outcome: the event failed and is retried, or failed for good


@dataclass
class _Outcome:
    status: str
    error: str = ""


def _events_process(
    ids: list[int], *, wait: bool, known: Sequence[InboundEvent] = ()
) -> dict[str, int]:
    """Enrich, then ingest the pending events among *ids* as one batch.

    *known* are the events as the caller already read them, to enrich without reading
    them again.
    """
    if not ids:
        return {}
    # Enrich first, outside any transaction: an adapter may call its channel's service
    # (Slack's users.info), and a slow answer must not hold the database's write lock.
    extras, failures = _events_enrich(
        [e for e in known if e.status == InboundEventStatus.PENDING]
        if known
        else InboundEvent.objects.filter(pk__in=ids, status=InboundEventStatus.PENDING).order_by(
            "received_at", "id"
        )
    )
    context = MappingContext.load()
    try:
        with transaction.atomic():
            pending = _events_lock(ids, extras, failures, wait=wait)
            ready = [e for e in pending if e.pk in extras]
            batch = _Batch(context)
            outcomes = batch.events_add(ready, extras)
            batch.flush()
            return _events_finish(pending, failures | outcomes)
    except Exception as exc:  # noqa: BLE001 - the events are retried one by one below
        if len(extras) <= 1:
            logger.exception("Processing inbound events %s failed", sorted(extras))
            error = _Outcome(_ERROR, f"{type(exc).__name__}: {exc}"[:2000])
            with transaction.atomic():
                pending = _events_lock(ids, extras, failures, wait=wait)
                return _events_finish(
                    pending, failures | {e.pk: error for e in pending if e.pk in extras}
                )
        logger.warning("A batch of %s inbound events failed; one at a time now", len(extras))
    with transaction.atomic():
        pending = _events_lock(ids, extras, failures, wait=wait)
        return _events_finish(pending, failures | _events_one_by_one(pending, context, extras))


def _events_lock(
    ids: list[int], extras: dict[int, Any], failures: dict[int, "_Outcome"], *, wait: bool
) -> list[InboundEvent]:
    """Return the events of *ids* still pending, locked where the database can.

    Every event still pending here was read, and so enriched, before the transaction.
    """
    events = InboundEvent.objects.filter(pk__in=ids, status=InboundEventStatus.PENDING)
    if connection.features.has_select_for_update:
        # Workers given overlapping ids split them instead of waiting for each other.
        skip = not wait and connection.features.has_select_for_update_skip_locked
        events = events.select_for_update(skip_locked=skip)
    return [e for e in events.order_by("received_at", "id") if e.pk in extras or e.pk in failures]


def _events_enrich(events: Iterable[InboundEvent]) -> tuple[dict[int, Any], dict[int, _Outcome]]:
    """Run each event's `enrich` step; return the enrichments and the events that failed.

    An event whose source is unavailable (Slack rate-limits, times out) fails this try and
    stays pending; one that can never become a message is rejected.
    """
    extras: dict[int, Any] = {}
    failures: dict[int, _Outcome] = {}
    for event in events:
        try:
            extras[event.pk] = source_adapter(event.source).enrich(event)
        except EventRejected as exc:
            failures[event.pk] = _Outcome(InboundEventStatus.REJECTED, exc.reason[:2000])
        except Exception as exc:  # noqa: BLE001 - the event is retried; others go on
            logger.warning("Enriching inbound event %s failed: %s", event.pk, exc)
            failures[event.pk] = _Outcome(_ERROR, f"{type(exc).__name__}: {exc}"[:2000])
    return extras, failures


def _events_one_by_one(
    events: list[InboundEvent], context: MappingContext, extras: dict[int, Any]
) -> dict[int, _Outcome]:
    """Ingest *events* one at a time, each in its own savepoint: one bad event stays alone."""
    outcomes = {}
    for event in events:
        if event.pk not in extras:
            continue
        try:
            with transaction.atomic():
                batch = _Batch(context.fresh())
                outcomes.update(batch.events_add([event], extras))
                batch.flush()
        except Exception as exc:  # noqa: BLE001 - one bad event must not block the batch
            logger.exception("Processing inbound event %s failed", event.pk)
            outcomes[event.pk] = _Outcome(_ERROR, f"{type(exc).__name__}: {exc}"[:2000])
    return outcomes


def _events_finish(events: list[InboundEvent], outcomes: dict[int, _Outcome]) -> dict[str, int]:
    """Record each event's outcome; an event that failed stays pending until its last try."""
    now = timezone.now()
    counts: Counter[str] = Counter()
    plain: dict[str, list[int]] = {}
    for event in events:
        outcome = outcomes[event.pk]
        if outcome.status in (InboundEventStatus.DONE, InboundEventStatus.IGNORED):
            plain.setdefault(outcome.status, []).append(event.pk)
            counts[outcome.status] += 1
            continue
        event.attempts += 1
        event.error = outcome.error
        if outcome.status == _ERROR:
            event.status = (
                InboundEventStatus.FAILED
                if event.attempts >= MAX_ATTEMPTS
                else InboundEventStatus.PENDING
            )
        else:
            event.status = outcome.status
        event.processed_at = None if event.status == InboundEventStatus.PENDING else now
        event.save(update_fields=["status", "error", "attempts", "processed_at"])
        counts[str(event.status)] += 1
    for status, pks in plain.items():
        InboundEvent.objects.filter(pk__in=pks).update(
            status=status, error="", attempts=F("attempts") + 1, processed_at=now
        )
    return dict(counts)


def message_ingest(
    incoming: IncomingMessage, context: MappingContext, event: InboundEvent | None = None
) -> Conversation | None:
    """Store *incoming* in its conversation; map a new conversation to its account."""
    batch = _Batch(context)
    batch.prefetch([incoming])
    conversation = batch.add(incoming, event)
    batch.flush()
    return conversation


_CHUNK = 500  # values per IN (...), well under SQLite's limit on parameters


class _Batch:
    """The messages of a batch of events, planned in memory and then written at once.

    Conversations, messages and decisions are built as unsaved rows and inserted by
    `flush`; the requesters to link as contacts are collected and linked in one go. What
    the plan has added is looked up before the database, so a later message of the batch
    finds the conversation, the message or the contact an earlier one planned.
    """

    def __init__(self, context: MappingContext) -> None:
        self.context = context
        # Conversations by (source, thread key) and by id: one object per conversation.
        self.threads: dict[tuple[str, str], Conversation] = {}
        self.by_pk: dict[int, Conversation] = {}
        # (source, external id) of messages stored before, and of planned ones.
        self.stored: set[tuple[str, str]] = set()
        self.planned: dict[tuple[str, str], Message] = {}
        # Messages stored before that replies may name as their parents:
        # (source, external id) -> (sent at, conversation).
        self.parents: dict[tuple[str, str], tuple[datetime.datetime, Conversation]] = {}
        self.new_conversations: list[Conversation] = []
        self.decisions: list[tuple[Conversation, MappingResult]] = []
        self.links: list[ContactLink] = []
        self.requesters: list[tuple[Conversation, str]] = []
        # Changes to conversations stored before: message counts, remapped ones.
        self.counts: Counter[int] = Counter()
        self.remapped: set[int] = set()

    # --- reading ---------------------------------------------------------------------------

    def events_add(
        self, events: Sequence[InboundEvent], extras: dict[int, Any]
    ) -> dict[int, _Outcome]:
        """Normalize and plan *events*, in order; return each one's outcome."""
        outcomes: dict[int, _Outcome] = {}
        normalized: list[tuple[InboundEvent, IncomingMessage]] = []
        for event in events:
            try:
                incoming = source_adapter(event.source).normalize(event, extras.get(event.pk))
            except EventRejected as exc:
                outcomes[event.pk] = _Outcome(InboundEventStatus.REJECTED, exc.reason[:2000])
                continue
            if incoming is None:
                outcomes[event.pk] = _Outcome(InboundEventStatus.IGNORED)
            else:
                normalized.append((event, incoming))
        self.prefetch([incoming for _, incoming in normalized])
        for event, incoming in normalized:
            conversation = self.add(incoming, event)
            outcomes[event.pk] = _Outcome(
                InboundEventStatus.DONE if conversation else InboundEventStatus.IGNORED
            )
        return outcomes

    def prefetch(self, incomings: Sequence[IncomingMessage]) -> None:
        """Read the conversations, messages and accounts *incomings* refer to, at once."""
        creates = [m for m in incomings if m.action == "create"]
        for source in {m.source for m in creates}:
            mine = [m for m in creates if m.source == source]
            for chunk in batched(sorted({m.external_id for m in mine}), _CHUNK):
                found = Message.objects.filter(source=source, external_id__in=chunk)
                self.stored.update((source, e) for e in found.values_list("external_id", flat=True))
            for chunk in batched(sorted({m.thread_key for m in mine}), _CHUNK):
                for conversation in Conversation.objects.filter(
                    source=source, thread_key__in=chunk
                ).select_related("account"):
                    self._remember(conversation)
            parent_ids = sorted({p for m in mine for p in m.parent_ids})
            for chunk in batched(parent_ids, _CHUNK):
                for external_id, sent_at, conversation in (
                    (message.external_id, message.sent_at, message.conversation)
                    for message in Message.objects.filter(
                        source=source, external_id__in=chunk
                    ).select_related("conversation__account")
                ):
                    self.parents[(source, external_id)] = (sent_at, self._remember(conversation))
        self.context.prefetch(_mapping_request(m) for m in creates)

    def _remember(self, conversation: Conversation) -> Conversation:
        """Return the one object that stands for *conversation* in this batch."""
        known = self.by_pk.get(conversation.pk)
        if known is not None:
            return known
        self.by_pk[conversation.pk] = conversation
        self.threads.setdefault((conversation.source, conversation.thread_key), conversation)
        return conversation

    def _find(self, incoming: IncomingMessage) -> Conversation | None:
        conversation = self.threads.get((incoming.source, incoming.thread_key))
        if conversation is not None or not incoming.parent_ids:
            return conversation
        # A reply whose root Rapport never saw joins its latest known parent's thread.
        found: list[tuple[datetime.datetime, Conversation]] = []
        for parent in incoming.parent_ids:
            key = (incoming.source, parent)
            if key in self.parents:
                found.append(self.parents[key])
            elif (message := self.planned.get(key)) is not None:
                found.append((message.sent_at, message.conversation))
        return max(found, key=lambda pair: pair[0])[1] if found else None

    # --- planning --------------------------------------------------------------------------

    def add(
        self, incoming: IncomingMessage, event: InboundEvent | None = None
    ) -> Conversation | None:
        """Plan *incoming*; return its conversation (None for a change to an unknown message)."""
        if incoming.action in ("edit", "delete"):
            self.flush()  # the message may be one this batch planned
            return _message_change(incoming)
        key = (incoming.source, incoming.external_id)
        if key in self.stored or key in self.planned:
            return self._find(incoming)  # the same message from another delivery
        conversation = self._find(incoming)
        created = conversation is None
        if conversation is None:
            conversation = Conversation(
                source=incoming.source,
                thread_key=incoming.thread_key,
                channel=incoming.channel,
                subject=incoming.subject[:500],
                requester_email="" if incoming.from_team else incoming.author_email,
                requester_name="" if incoming.from_team else incoming.author_name,
                last_message_at=incoming.sent_at,
            )
            self.threads[(incoming.source, incoming.thread_key)] = conversation
            self.new_conversations.append(conversation)
        elif conversation.pk is not None:  # stored before: its count goes up on flush
            self.counts[conversation.pk] += 1
        self.planned[key] = Message(
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
            # The team wrote it in the channel itself: it was sent there already.
            delivery_status=DeliveryStatus.SENT if incoming.from_team else "",
        )
        conversation.message_count += 1
        conversation.last_message_at = incoming.sent_at
        # A conversation is mapped when it starts, and again when a customer's address
        # first shows in one that nothing linked (nor a person unlinked): one the team
        # started, or one whose first writer's address was unknown.
        needs_mapping = created or (
            not incoming.from_team
            and incoming.author_email
            and not conversation.requester_email
            and conversation.account_id is None
            and conversation.mapping_method != MappingMethod.MANUAL
        )
        if needs_mapping:
            if not incoming.from_team and not conversation.requester_email:
                conversation.requester_email = incoming.author_email
                conversation.requester_name = incoming.author_name
            self._map(conversation, mapping_resolve(_mapping_request(incoming), self.context))
            if conversation.pk is not None:
                self.remapped.add(conversation.pk)
            if conversation.account is not None and conversation.requester_email:
                self._link(
                    conversation,
                    conversation.account,
                    conversation.requester_email,
                    conversation.requester_name,
                )
        elif conversation.account is not None and not incoming.from_team and incoming.author_email:
            # A new customer voice in a linked conversation becomes a contact too.
            is_requester = incoming.author_email == conversation.requester_email
            self._link(
                conversation,
                conversation.account,
                incoming.author_email,
                incoming.author_name or (conversation.requester_name if is_requester else ""),
            )
        return conversation

    def _map(self, conversation: Conversation, result: MappingResult) -> None:
        """Carry out *result* for the planned conversation; `flush` records the decision."""
        result = mapping_decision_apply(conversation, result, self.context)
        self.decisions.append((conversation, result))

    def _link(self, conversation: Conversation, account: Account, email: str, name: str) -> None:
        if not (contact_email := contact_address(email)):
            return  # an address Rapport cannot store as a contact stays on the message only
        self.links.append(ContactLink(account_id=account.pk, email=contact_email, name=name))
        self.context.contact_linked(contact_email, account.pk)
        if email == conversation.requester_email:
            self.requesters.append((conversation, contact_email))

    # --- writing ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what is planned: contacts, conversations, messages, decisions, counts."""
        contact_ids = contacts_add_to_accounts(self.links)[0] if self.links else {}
        changed: set[int] = set(self.counts) | self.remapped
        for conversation, email in self.requesters:
            if conversation.requester_id != contact_ids[email]:
                conversation.requester_id = contact_ids[email]
                if conversation.pk is not None:
                    changed.add(conversation.pk)
        Conversation.objects.bulk_create(self.new_conversations, batch_size=_CHUNK)
        for conversation in self.new_conversations:
            self._remember(conversation)
        messages = Message.objects.bulk_create(self.planned.values(), batch_size=_CHUNK)
        messages_stored(messages)
        mapping_decisions_record(self.decisions)
        for pk in sorted(changed):
            conversation = self.by_pk[pk]
            values: dict[str, Any] = {}
            if count := self.counts.get(pk):
                values |= {
                    "message_count": F("message_count") + count,
                    "last_message_at": conversation.last_message_at,
                }
            if pk in self.remapped:
                values |= {
                    "account": conversation.account,
                    "mapping_method": conversation.mapping_method,
                    "mapping_outcome": conversation.mapping_outcome,
                    "requester_email": conversation.requester_email,
                    "requester_name": conversation.requester_name,
                }
            values["requester"] = conversation.requester_id
            Conversation.objects.filter(pk=pk).update(**values)
        self.stored.update(self.planned)
        for key, message in self.planned.items():  # later replies may name them as parents
            self.parents[key] = (message.sent_at, message.conversation)
        self.planned = {}
        self.new_conversations, self.decisions, self.links, self.requesters = [], [], [], []
        self.counts, self.remapped = Counter(), set()


def _mapping_request(incoming: IncomingMessage) -> MappingRequest:
    return MappingRequest(
        requester_email="" if incoming.from_team else incoming.author_email,
        account_id=incoming.account_id,
        customer_ref=incoming.customer_ref,
        channel_id=incoming.channel.pk if incoming.channel else None,
        source=incoming.source,
    )


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

"""A batch of normalized messages, planned in memory and written at once.

The batch keeps the order the events arrived in, and writes with a few statements per
table: the mapping engine and the plan remember what earlier messages of the batch
created (conversations, accounts, contacts), so each message sees the same state as if
the messages had been stored one by one. Hooks registered here (triage) hear of every
batch of new messages in its storing transaction.
"""

import datetime
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import Any

from django.db.models import F

from rapport.accounts.models import Account
from rapport.accounts.services_contacts import (
    ContactLink,
    ContactsRead,
    contacts_add_to_accounts,
    contacts_read,
)
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
from rapport.mapping.models import MappingDecision, MappingMethod
from rapport.mapping.services import (
    mapping_creation_lock,
    mapping_decision_apply,
    mapping_decisions_record,
)

OUTCOME_ERROR = "error"  # the event failed and is retried, or failed for good


@dataclass
class EventOutcome:
    """What became of one event: a status (or OUTCOME_ERROR) and why."""

    status: str
    error: str = ""


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


def message_ingest(
    incoming: IncomingMessage, context: MappingContext, event: InboundEvent | None = None
) -> Conversation | None:
    """Store *incoming* in its conversation; map a new conversation to its account."""
    batch = MessageBatch(context)
    batch.prefetch([incoming])
    conversation = batch.add(incoming, event)
    batch.flush()
    return conversation


_CHUNK = 500  # values per IN (...), well under SQLite's limit on parameters


class MessageBatch:
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
        # What the batch did, for a face whose answer names it: the conversation each
        # event went to, and the decisions recorded for new conversations.
        self.event_conversations: dict[int, Conversation] = {}
        self.recorded: list[MappingDecision] = []
        # (source, "message" | "thread" | "parent", key) looked up by `prefetch`.
        self.read: set[tuple[str, str, str]] = set()
        # The people behind the messages, and their links, as `prefetch` read them.
        self.people = ContactsRead(set(), {}, set())

    # --- reading ---------------------------------------------------------------------------

    def events_add(
        self, events: Sequence[InboundEvent], extras: dict[int, Any]
    ) -> dict[int, EventOutcome]:
        """Normalize and plan *events*, in order; return each one's outcome."""
        outcomes: dict[int, EventOutcome] = {}
        normalized: list[tuple[InboundEvent, IncomingMessage]] = []
        for event in events:
            try:
                incoming = source_adapter(event.source).normalize(event, extras.get(event.pk))
            except EventRejected as exc:
                outcomes[event.pk] = EventOutcome(InboundEventStatus.REJECTED, exc.reason[:2000])
                continue
            if incoming is None:
                outcomes[event.pk] = EventOutcome(InboundEventStatus.IGNORED)
            else:
                normalized.append((event, incoming))
        self.prefetch([incoming for _, incoming in normalized])
        for event, incoming in normalized:
            conversation = self.add(incoming, event)
            if conversation is not None:
                self.event_conversations[event.pk] = conversation
            outcomes[event.pk] = EventOutcome(
                InboundEventStatus.DONE if conversation else InboundEventStatus.IGNORED
            )
        return outcomes

    def prefetch(self, incomings: Sequence[IncomingMessage]) -> None:
        """Read the conversations, messages and accounts *incomings* refer to, at once.

        What an earlier call read is not read again: a face may read before its write
        transaction, and the batch then plans inside it without waiting on these reads.
        """
        creates = [m for m in incomings if m.action == "create"]
        for source in {m.source for m in creates}:
            mine = [m for m in creates if m.source == source]
            ids = self._unread(source, "message", {m.external_id for m in mine})
            for chunk in batched(ids, _CHUNK):
                found = Message.objects.filter(source=source, external_id__in=chunk).order_by()
                self.stored.update((source, e) for e in found.values_list("external_id", flat=True))
            threads = self._unread(source, "thread", {m.thread_key for m in mine})
            for chunk in batched(threads, _CHUNK):
                for conversation in (
                    Conversation.objects.filter(source=source, thread_key__in=chunk)
                    .select_related("account")
                    .order_by()
                ):
                    self._remember(conversation)
            parent_ids = self._unread(source, "parent", {p for m in mine for p in m.parent_ids})
            for chunk in batched(parent_ids, _CHUNK):
                for external_id, sent_at, conversation in (
                    (message.external_id, message.sent_at, message.conversation)
                    for message in Message.objects.filter(source=source, external_id__in=chunk)
                    .select_related("conversation__account")
                    .order_by()
                ):
                    self.parents[(source, external_id)] = (sent_at, self._remember(conversation))
        voices = {
            email
            for m in creates
            if not m.from_team and not m.author_unverified
            if (email := contact_address(m.author_email))
        }
        if unread := voices - self.people.emails:
            people = contacts_read(unread)
            self.people.emails |= people.emails
            self.people.found |= people.found
            self.people.linked |= people.linked
        requests = [_mapping_request(m) for m in creates]
        self.context.prefetch(requests)
        # Before any account is created: see `mapping_creation_lock`.
        mapping_creation_lock(self.context.domains_unclaimed(requests))

    def _unread(self, source: str, kind: str, keys: set[str]) -> list[str]:
        """Return the *keys* of *kind* not read yet, in order, and note them as read."""
        unread = sorted(k for k in keys if (source, kind, k) not in self.read)
        self.read.update((source, kind, k) for k in unread)
        return unread

    def decision_for(self, conversation: Conversation) -> MappingDecision | None:
        """Return the decision this batch recorded for *conversation*, if it made one."""
        for decision in reversed(self.recorded):
            if decision.conversation is conversation:
                return decision
        return None

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
                requester_identity="" if incoming.from_team else incoming.author_identity,
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
                conversation.requester_identity = incoming.author_identity
            self._map(conversation, mapping_resolve(_mapping_request(incoming), self.context))
            if conversation.pk is not None:
                self.remapped.add(conversation.pk)
            # An unverified email is only a claim: it may point the conversation at the
            # account that owns its domain, but it never makes its author that
            # account's contact.
            if (
                conversation.account is not None
                and conversation.requester_email
                and not incoming.author_unverified
            ):
                self._link(
                    conversation,
                    conversation.account,
                    conversation.requester_email,
                    conversation.requester_name,
                )
        elif (
            conversation.account is not None
            and not incoming.from_team
            and incoming.author_email
            and not incoming.author_unverified
        ):
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
        contact_ids = {}
        if self.links:
            contact_ids = contacts_add_to_accounts(self.links, read=self.people)[0]
            # Those just written are read again if a later flush needs them.
            self.people.emails -= contact_ids.keys()
            for email in contact_ids:
                self.people.found.pop(email, None)
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
        self.recorded.extend(mapping_decisions_record(self.decisions))
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
                    "requester_identity": conversation.requester_identity,
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
        may_create=not incoming.author_unverified,
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

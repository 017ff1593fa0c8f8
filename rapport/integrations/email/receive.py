"""Email: raw RFC 822 messages from the SMTP listener or the inbound email API.

Both faces call `email_receive`, which stores the raw message as an InboundEvent keyed
by its Message-ID (a redelivery is a no-op); the worker then turns it into a message
with `email_normalize`.

Threading: a conversation is keyed by the root of its thread, the first entry of
References (else In-Reply-To, else the message's own id). A reply whose root Rapport
never saw joins the conversation of any parent it knows (`batch.MessageBatch._find`).
A reply that arrives before its parent starts the conversation under the root id; the
parent, naming the same root (or being it), joins it when it arrives.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from rapport.core.errors import InvalidInput
from rapport.inbox.adapters import EventRejected
from rapport.inbox.ingest import Enriched, inbound_event_prepare, inbound_event_process_now
from rapport.inbox.models import InboundEvent, InboundEventStatus, Message, Source
from rapport.inbox.services import inbound_event_store
from rapport.integrations.email.adapter import email_enrich
from rapport.integrations.email.parse import (
    MAX_RAW_BYTES,
    EmailRejected,
    email_fingerprint,
    email_headers_parse,
)

logger = logging.getLogger(__name__)


def email_event_id(raw: bytes) -> str:
    """Return the id that makes a redelivered email a no-op: its Message-ID.

    A message without one (or that cannot be read) is known by a digest of what its
    sender wrote.
    """
    try:
        return email_headers_parse(raw).message_id
    except EmailRejected:
        return email_fingerprint(raw)


@dataclass
class EmailReceipt:
    """What became of one delivered email."""

    event: InboundEvent
    created: bool
    rejected: str = ""  # why the message can never be ingested; empty when accepted
    conversation_id: int | None = None  # known once the message is processed


def email_receive(
    raw: bytes, *, envelope: dict[str, Any] | None = None, enqueue: bool = True
) -> EmailReceipt:
    """Store one raw email as an inbound event, once; the worker turns it into a message.

    A message that can never become one (no sender address) is stored too, already
    rejected with its reason, so the refusal is on record and a redelivery gets the
    same answer. A message over the size limit is refused before anything is stored.
    """
    if len(raw) > MAX_RAW_BYTES:
        raise InvalidInput(f"The email is larger than {MAX_RAW_BYTES // 2**20} MB.")
    try:
        event_id, reason = email_headers_parse(raw).message_id, ""
    except EmailRejected as exc:
        event_id, reason = email_fingerprint(raw), exc.reason
    event, created = inbound_event_store(
        source=Source.EMAIL,
        external_id=event_id,
        payload=envelope or {},
        raw=raw,
        enqueue=enqueue and not reason,
    )
    if reason and event.status == InboundEventStatus.PENDING:
        inbound_event_process_now(event)  # the normalizer records the reason
    if event.status == InboundEventStatus.REJECTED:
        reason = event.error or reason
    return EmailReceipt(event=event, created=created, rejected=reason)


def email_receive_now(raw: bytes, *, envelope: dict[str, Any] | None = None) -> EmailReceipt:
    """Store one raw email and process it at once, for a face whose answer names the thread.

    The message is parsed before the transaction, and stored and processed in one short
    transaction. Storing is the commitment: when processing fails, the event stays
    pending and the worker processes it later, so the answer is still "accepted".
    """
    if len(raw) > MAX_RAW_BYTES:
        raise InvalidInput(f"The email is larger than {MAX_RAW_BYTES // 2**20} MB.")
    try:
        enriched = email_enrich(raw)
    except EventRejected:
        # Stored with its reason, so the refusal is on record.
        return email_receive(raw, envelope=envelope, enqueue=False)
    unsaved = InboundEvent(
        source=Source.EMAIL,
        external_id=enriched.parsed.message_id[:255],
        payload=envelope or {},
        raw=raw,
    )
    # Read what processing needs first: the write transaction, which on SQLite holds
    # the one write lock, then only plans and writes.
    prepared = inbound_event_prepare(unsaved, enriched=Enriched(enriched))
    with transaction.atomic():
        event, created = inbound_event_store(
            source=Source.EMAIL,
            external_id=unsaved.external_id,
            payload=unsaved.payload,
            raw=raw,
            enqueue=False,
        )
        receipt = EmailReceipt(event=event, created=created)
        if event.status == InboundEventStatus.REJECTED:
            receipt.rejected = event.error
            return receipt
        try:
            ingested = inbound_event_process_now(event, fresh=created, prepared=prepared)
        except Exception:  # noqa: BLE001 - stored is enough; the worker retries processing
            logger.exception("Processing email event %s failed; it stays queued", event.pk)
            return receipt
    if ingested.conversation is not None:
        receipt.conversation_id = ingested.conversation.pk
    else:  # a redelivery, or a message the worker took: name what is stored
        receipt.conversation_id = (
            Message.objects.filter(source=Source.EMAIL, external_id=event.external_id)
            .values_list("conversation_id", flat=True)
            .first()
        )
    return receipt

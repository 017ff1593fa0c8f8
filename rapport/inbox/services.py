"""Writes for channels and inbound events."""

import datetime
import hashlib
import json
import uuid
import zlib
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import Account
from rapport.audit.services import audit_changes, audit_record
from rapport.core.errors import Conflict, InvalidInput, PermissionDenied
from rapport.core.query_params import params_whole
from rapport.inbox.adapters import channel_adapter
from rapport.inbox.batch import messages_stored
from rapport.inbox.models import (
    Channel,
    Conversation,
    DeliveryStatus,
    InboundEvent,
    InboundEventStatus,
    Message,
    MessageDirection,
    Source,
)
from rapport.outbox.services import outbox_add, outbox_failed_requeue
from rapport.users.models import User
from rapport.users.services import user_require_admin

# The outbox action that sends a team reply through its conversation's channel.
DELIVER_ACTION = "message.deliver"


@transaction.atomic
def channel_create(
    *, slack_team_id: str, slack_channel_id: str, name: str, is_private: bool = False
) -> Channel:
    """Register a Slack channel, or return it if it is known."""
    if not slack_team_id or not slack_channel_id:
        raise InvalidInput("A Slack channel needs a team id and a channel id.")
    channel, _ = Channel.objects.get_or_create(
        slack_team_id=slack_team_id,
        slack_channel_id=slack_channel_id,
        defaults={"name": name.lstrip("#"), "is_private": is_private},
    )
    return channel


@transaction.atomic
def channel_set_accounts(*, actor: User | None, channel: Channel, accounts: list[Account]) -> None:
    """Link *channel* to exactly *accounts*; each account linked or unlinked records it too."""
    if actor is not None:
        user_require_admin(actor, "link Slack channels to accounts")
    linked = {a.pk: a for a in channel.accounts.all()}
    before = sorted(linked)
    channel.accounts.set(accounts)
    after = sorted(a.pk for a in accounts)
    audit_record(
        actor=actor,
        action="channel.link_accounts",
        obj=channel,
        changes={"accounts": {"before": before, "after": after}} if before != after else {},
    )
    name = f"#{channel.name}"
    for account in accounts:
        if account.pk not in linked:
            audit_record(
                actor=actor,
                action="account.channel_link",
                obj=account,
                changes={"slack_channels": {"before": None, "after": name}},
            )
    for pk in set(before) - set(after):
        audit_record(
            actor=actor,
            action="account.channel_unlink",
            obj=linked[pk],
            changes={"slack_channels": {"before": name, "after": None}},
        )


@transaction.atomic
def channel_set_csm(*, actor: User | None, channel: Channel, csm: User | None) -> Channel:
    """Name the customer success manager who looks after *channel* (None clears it)."""
    if actor is not None:
        user_require_admin(actor, "set a channel's CSM")
    if csm is not None and not csm.is_active:
        raise InvalidInput("The CSM must be an active member.", field="csm")
    before = Channel.objects.select_for_update().values_list("csm_id", flat=True).get(pk=channel.pk)
    channel.csm = csm
    channel.save(update_fields=["csm"])
    audit_record(
        actor=actor,
        action="channel.set_csm",
        obj=channel,
        changes=audit_changes({"csm": before}, {"csm": csm.pk if csm else None}),
    )
    return channel


def channel_set_csm_by_id(*, actor: User, channel: Channel, csm: int | str | None) -> Channel:
    """Set *channel*'s CSM from the member id a page or the API sent (None or "" clears it).

    A member is refused before the id is looked at, so ids reveal nothing.
    """
    user_require_admin(actor, "set a channel's CSM")
    member = None
    if csm is not None and csm != "":
        csm_id = csm if isinstance(csm, int) else params_whole(csm)
        member = User.objects.filter(pk=csm_id).first() if csm_id is not None else None
        if member is None:
            raise InvalidInput(f"No member with id {csm}.", field="csm")
    return channel_set_csm(actor=actor, channel=channel, csm=member)


# --- inbound events ------------------------------------------------------------------------

RECOVER_AFTER_SECONDS = 60
RECOVER_BATCH = 500


def inbound_event_store(
    *,
    source: str,
    external_id: str,
    payload: dict[str, Any] | None = None,
    raw: bytes = b"",
    enqueue: bool = True,
) -> tuple[InboundEvent, bool]:
    """Store one delivery; a second delivery with the same id changes nothing.

    Return the event and whether it is new. A new event is enqueued for processing
    once the surrounding transaction commits; a face that processes it in the request
    itself passes `enqueue=False` and calls `inbound_event_enqueue` only if that failed
    (an event left pending by a crash is found by the recovery job).
    """
    if not external_id:
        raise InvalidInput("An inbound event needs an id.")
    external_id = external_id[:255]
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                source=source, external_id=external_id, payload=payload or {}, raw=raw
            )
    except IntegrityError:
        return InboundEvent.objects.get(source=source, external_id=external_id), False
    if enqueue:
        transaction.on_commit(lambda: _enqueue([event.pk]))
    return event, True


def inbound_event_enqueue(event: InboundEvent) -> None:
    """Hand a stored event to the worker (after its processing in the request failed)."""
    transaction.on_commit(lambda: _enqueue([event.pk]))


def ticket_event(*, body: dict[str, Any], idempotency_key: str | None) -> InboundEvent:
    """Return the (unsaved) inbound event of an API ticket, checked, keyed and fingerprinted.

    The Idempotency-Key is the event's id, so a retry finds the first delivery. The
    body's fingerprint is kept with it: the same key with a different body is refused.
    """
    if "@" not in body.get("requester_email", ""):
        raise InvalidInput("requester_email must be an email address.", field="requester_email")
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    key = (idempotency_key or "").strip() or f"generated-{uuid.uuid4()}"
    return InboundEvent(
        source=Source.API, external_id=key[:255], payload=body | {"fingerprint": fingerprint}
    )


def ticket_store(
    *,
    body: dict[str, Any],
    idempotency_key: str | None,
    enqueue: bool = True,
    event: InboundEvent | None = None,
) -> tuple[InboundEvent, bool]:
    """Store an API ticket as an inbound event; return it and whether it is new.

    *event* is the ticket's `ticket_event`, when the caller built it already.
    """
    event = event or ticket_event(body=body, idempotency_key=idempotency_key)
    stored, created = inbound_event_store(
        source=event.source, external_id=event.external_id, payload=event.payload, enqueue=enqueue
    )
    if not created and stored.payload.get("fingerprint") != event.payload["fingerprint"]:
        raise Conflict("This Idempotency-Key was already used with a different request body.")
    return stored, created


def inbound_events_store_many(
    source: str, items: list[tuple[str, dict[str, Any]]], *, batch_size: int = 500
) -> int:
    """Store many deliveries at once (imports, backfills, batch APIs); return how many are new.

    Duplicates are skipped by the unique constraint; the new events are enqueued in
    batches after commit.
    """
    created_ids: list[int] = []
    with transaction.atomic():
        _store_many_lock(source)
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            keys = [external_id[:255] for external_id, _ in chunk]
            existing = set(
                InboundEvent.objects.filter(source=source, external_id__in=keys).values_list(
                    "external_id", flat=True
                )
            )
            fresh = {}
            for (_external_id, payload), key in zip(chunk, keys, strict=True):
                if key not in existing and key not in fresh:
                    fresh[key] = InboundEvent(source=source, external_id=key, payload=payload)
            InboundEvent.objects.bulk_create(fresh.values(), ignore_conflicts=True)
            created_ids.extend(
                InboundEvent.objects.filter(
                    source=source, external_id__in=list(fresh), status=InboundEventStatus.PENDING
                )
                .order_by("pk")
                .values_list("pk", flat=True)
            )
    for start in range(0, len(created_ids), batch_size):
        ids = created_ids[start : start + batch_size]
        transaction.on_commit(lambda ids=ids: _enqueue(ids))  # type: ignore[misc]
    return len(created_ids)


# The class of PostgreSQL advisory locks taken by `_store_many_lock` ("RAPP").
_STORE_MANY_LOCK = 0x52415050


def _store_many_lock(source: str) -> None:
    """Let one batch store of *source* run at a time, until its transaction ends.

    On PostgreSQL two batches holding some of the same events in different orders would
    wait on each other's uncommitted rows (a deadlock), and each would count the other's
    new events as its own. SQLite's IMMEDIATE transactions already run one at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            key = zlib.crc32(source.encode()) & 0x7FFFFFFF
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_STORE_MANY_LOCK, key])


def _enqueue(event_ids: list[int]) -> None:
    from rapport.inbox.tasks import inbound_process

    inbound_process.enqueue(event_ids)


def inbound_events_recover() -> int:
    """Enqueue events still pending a minute after they arrived and waiting for no task.

    A worker that died mid-batch rolled its transaction back, so its events are still
    pending. Events whose task still waits in the queue are a healthy backlog, not lost:
    they are left to it, so a busy worker is not handed the same events every minute.
    """
    from rapport.inbox.tasks import inbound_process
    from rapport.ops.selectors import task_queued_args

    queued = {pk for args in task_queued_args(inbound_process) for pk in (args[0] if args else [])}
    cutoff = timezone.now() - datetime.timedelta(seconds=RECOVER_AFTER_SECONDS)
    ids = [
        pk
        for pk in InboundEvent.objects.filter(
            status=InboundEventStatus.PENDING, received_at__lt=cutoff
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:10_000]
        if pk not in queued
    ]
    for start in range(0, len(ids), RECOVER_BATCH):
        _enqueue(ids[start : start + RECOVER_BATCH])
    return len(ids)


# --- team replies ---------------------------------------------------------------------------


@transaction.atomic
def conversation_reply(*, actor: User, conversation: Conversation, text: str) -> Message:
    """Add a team member's reply to *conversation* and queue it out through its channel.

    The reply and its outbox item commit together; the channel's adapter delivers it
    after commit (`inbox.delivery`). A channel that shows replies straight from the
    database (web chat) has it sent once stored.
    """
    if not actor.is_active:
        raise PermissionDenied("Only an active member can reply.")
    text = (text or "").strip()
    if not text:
        raise InvalidInput("Write a reply first.", field="text")
    if "\x00" in text:
        raise InvalidInput("The reply cannot contain NUL characters.", field="text")
    try:
        adapter = channel_adapter(conversation.source)
    except KeyError:
        raise InvalidInput(
            f"Rapport cannot reply through {conversation.get_source_display()}."
        ) from None
    now = timezone.now()
    sent = adapter.delivered_when_stored
    message = Message.objects.create(
        conversation=conversation,
        source=conversation.source,
        external_id=f"reply-{uuid.uuid4()}",
        direction=MessageDirection.OUTBOUND,
        author_user=actor,
        author_email=actor.email,
        # The name only: a customer-facing channel must not show a member's email.
        author_name=actor.name,
        text=text,
        sent_at=now,
        delivery_status=DeliveryStatus.SENT if sent else DeliveryStatus.QUEUED,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1, last_message_at=now
    )
    if sent:
        messages_stored([message])
    else:
        outbox_add(DELIVER_ACTION, {"message_id": message.pk})
    return message


@transaction.atomic
def reply_retry(*, actor: User, message: Message) -> Message:
    """Queue a reply whose delivery failed for another try."""
    if not actor.is_active:
        raise PermissionDenied("Only an active member can retry a reply.")
    locked = Message.objects.select_for_update().get(pk=message.pk)
    if locked.delivery_status != DeliveryStatus.FAILED:
        raise Conflict("Only a reply that failed can be sent again.")
    locked.delivery_status = DeliveryStatus.QUEUED
    locked.delivery_error = ""
    locked.save(update_fields=["delivery_status", "delivery_error"])
    # The call that failed is made again, so it no longer shows as failed on its own.
    if not outbox_failed_requeue(DELIVER_ACTION, message_id=locked.pk):
        outbox_add(DELIVER_ACTION, {"message_id": locked.pk})
    return locked


def reply_delivered(
    *, message_id: int, external_id: str = "", sent_at: datetime.datetime | None = None
) -> Message | None:
    """Record that the channel took a reply: it is sent, now, and counts from now on.

    Only now does triage see it, so a request's first response is the first reply that
    reached the customer, timed when it left.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.delivery_status == DeliveryStatus.SENT:
            return message
        now = sent_at or timezone.now()
        message.delivery_status = DeliveryStatus.SENT
        message.delivery_error = ""
        message.sent_at = now
        fields = ["delivery_status", "delivery_error", "sent_at"]
        if external_id and external_id != message.external_id:
            message.external_id = external_id[:300]
            fields.append("external_id")
        message.save(update_fields=fields)
        Conversation.objects.filter(pk=message.conversation_id).update(last_message_at=now)
        messages_stored([message])
    return message


def reply_requeue(*, message_id: int) -> None:
    """Show a failed reply as queued again: an admin made its outside call due once more."""
    Message.objects.filter(pk=message_id, delivery_status=DeliveryStatus.FAILED).update(
        delivery_status=DeliveryStatus.QUEUED, delivery_error=""
    )


def reply_delivery_failed(*, message_id: int, error: str, final: bool) -> None:
    """Record a failed try to deliver a reply; once the outbox gives up, it failed."""
    status = DeliveryStatus.FAILED if final else DeliveryStatus.QUEUED
    error = error if final else f"Not sent yet, trying again: {error}"
    Message.objects.filter(pk=message_id).exclude(delivery_status=DeliveryStatus.SENT).update(
        delivery_status=status, delivery_error=error[:2000]
    )

"""The ingest path after storage: enrich, normalize, then store as one batch.

Channel adapters store an InboundEvent and enqueue `inbound_process`; this module
turns pending events into conversations and messages. Each event is enriched by its
adapter first, outside any transaction (the adapter may call its channel's service);
then, in one short transaction, the events still pending are normalized and written
(`batch.MessageBatch`). Events are marked done in the same transaction as their
messages, so a crash leaves them pending (and the recovery job picks them up) and a
retry finds them done. If anything in the batch fails, the whole batch is rolled back
and its events are processed one at a time, each in its own savepoint, so one bad event
cannot block the others.
"""

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from rapport.inbox.adapters import EventRejected, source_adapter
from rapport.inbox.batch import OUTCOME_ERROR, EventOutcome, MessageBatch
from rapport.inbox.models import Conversation, InboundEvent, InboundEventStatus
from rapport.inbox.services import inbound_event_enqueue
from rapport.mapping.engine import MappingContext
from rapport.mapping.models import MappingDecision

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def inbound_events_process(event_ids: Iterable[int]) -> dict[str, int]:
    """Process the given pending events; return how many ended in each state."""
    return _events_process(list(event_ids), wait=False)[0]


@dataclass
class Ingested:
    """What processing one event in the request made: its conversation, and the mapping
    decision recorded when the conversation is new (None when nothing was stored)."""

    conversation: Conversation | None = None
    decision: MappingDecision | None = None


@dataclass(frozen=True)
class Enriched:
    """What the adapter's `enrich` step returned for an event, run by the caller already."""

    value: Any


@dataclass
class Prepared:
    """An event's enrichment, and what its processing reads, done before its write
    transaction (`inbound_event_prepare`)."""

    extra: Any
    batch: MessageBatch


def inbound_event_prepare(
    event: InboundEvent, *, enriched: Enriched | None = None
) -> Prepared | None:
    """Enrich *event* (unless *enriched* says how) and read what processing it needs.

    For a face that stores and processes an event in one transaction: called before the
    transaction (the event may not be stored yet), so the write transaction, which on
    SQLite holds the one write lock, only plans and writes. What changes meanwhile is
    caught by the constraints, and the event is then processed again with fresh reads.
    Return None when the event cannot be prepared: processing meets the same failure
    and records it.
    """
    adapter = source_adapter(event.source)
    try:
        extra = enriched.value if enriched is not None else adapter.enrich(event)
        incoming = adapter.normalize(event, extra)
    except Exception:  # noqa: BLE001 - processing meets it again and records it
        return None
    batch = MessageBatch(MappingContext.load())
    if incoming is not None:
        batch.prefetch([incoming])
    return Prepared(extra, batch)


def inbound_event_process_now(
    event: InboundEvent, *, fresh: bool = False, prepared: Prepared | None = None
) -> Ingested:
    """Process *event* in the current request when it is still pending; return what it made.

    For the API faces whose answer needs the result (the ticket's mapping, the email's
    conversation). When a worker holds the event, wait for it rather than skip it: a
    retried ticket then answers with the ticket the first delivery created. A worker
    that picks the event up later finds it done.

    *fresh* says the caller stored *event* in the transaction still open, so no worker
    can hold it: it is processed as it is, without reading it again. *prepared* is
    what `inbound_event_prepare` read for it before the transaction (with *fresh* only).

    The faces store their event without enqueueing it (`enqueue=False`): an event this
    leaves pending, because processing failed, is handed to the worker here.
    """
    if event.status != InboundEventStatus.PENDING:
        return Ingested()
    try:
        _counts, batch = _events_process(
            [event.pk],
            wait=True,
            known=[event],
            fresh=fresh,
            prepared={event.pk: prepared} if prepared and fresh else None,
        )
        if not fresh:
            event.refresh_from_db()
    finally:
        if event.status == InboundEventStatus.PENDING:
            inbound_event_enqueue(event)
    conversation = batch.event_conversations.get(event.pk) if batch else None
    if conversation is None or conversation.pk is None:
        return Ingested()
    return Ingested(conversation, batch.decision_for(conversation) if batch else None)


def _events_process(
    ids: list[int],
    *,
    wait: bool,
    known: Sequence[InboundEvent] = (),
    fresh: bool = False,
    prepared: dict[int, Prepared] | None = None,
) -> tuple[dict[str, int], MessageBatch | None]:
    """Enrich, then ingest the pending events among *ids* as one batch.

    *known* are the events as the caller already read them, to enrich without reading
    them again; with *fresh*, the caller stored them in the transaction still open, so
    they are not read (nor locked) again either. Return the count of events in each
    state, and the batch that stored them (None when it failed). *prepared* holds the
    one event the caller prepared (`inbound_event_prepare`).
    """
    if not ids:
        return {}, None
    # Enrich first, outside any transaction: an adapter may call its channel's service
    # (Slack's users.info), and a slow answer must not hold the database's write lock.
    extras, failures = (
        ({pk: ready.extra for pk, ready in prepared.items()}, {})
        if prepared
        else _events_enrich(
            [e for e in known if e.status == InboundEventStatus.PENDING]
            if known
            else InboundEvent.objects.filter(
                pk__in=ids, status=InboundEventStatus.PENDING
            ).order_by("received_at", "id")
        )
    )

    def lock() -> list[InboundEvent]:
        if fresh:
            return [e for e in known if e.pk in extras or e.pk in failures]
        return _events_lock(ids, extras, failures, wait=wait)

    [early] = prepared.values() if prepared else [None]
    context = early.batch.context if early else MappingContext.load()
    before = [(e, e.status, e.error, e.attempts, e.processed_at) for e in known] if fresh else []
    try:
        with transaction.atomic():
            pending = lock()
            ready = [e for e in pending if e.pk in extras]
            batch = early.batch if early else MessageBatch(context)
            outcomes = batch.events_add(ready, extras)
            batch.flush()
            return _events_finish(pending, failures | outcomes), batch
    except Exception as exc:  # noqa: BLE001 - the events are retried one by one below
        # The rolled-back savepoint took back what `_events_finish` wrote; so here.
        for event, status, message, attempts, processed_at in before:
            event.status, event.error, event.attempts = status, message, attempts
            event.processed_at = processed_at
        # With reads made before the transaction, a change meanwhile may be what failed:
        # the one-by-one path reads again.
        if len(extras) <= 1 and not early:
            logger.exception("Processing inbound events %s failed", sorted(extras))
            error = EventOutcome(OUTCOME_ERROR, f"{type(exc).__name__}: {exc}"[:2000])
            with transaction.atomic():
                pending = lock()
                return _events_finish(
                    pending, failures | {e.pk: error for e in pending if e.pk in extras}
                ), None
        logger.warning("A batch of %s inbound events failed; one at a time now", len(extras))
    with transaction.atomic():
        pending = lock()
        return _events_finish(
            pending, failures | _events_one_by_one(pending, context, extras)
        ), None


def _events_lock(
    ids: list[int], extras: dict[int, Any], failures: dict[int, "EventOutcome"], *, wait: bool
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


def _events_enrich(
    events: Iterable[InboundEvent],
) -> tuple[dict[int, Any], dict[int, EventOutcome]]:
    """Run each event's `enrich` step; return the enrichments and the events that failed.

    An event whose source is unavailable (Slack rate-limits, times out) fails this try and
    stays pending; one that can never become a message is rejected.
    """
    extras: dict[int, Any] = {}
    failures: dict[int, EventOutcome] = {}
    for event in events:
        try:
            extras[event.pk] = source_adapter(event.source).enrich(event)
        except EventRejected as exc:
            failures[event.pk] = EventOutcome(InboundEventStatus.REJECTED, exc.reason[:2000])
        except Exception as exc:  # noqa: BLE001 - the event is retried; others go on
            logger.warning("Enriching inbound event %s failed: %s", event.pk, exc)
            failures[event.pk] = EventOutcome(OUTCOME_ERROR, f"{type(exc).__name__}: {exc}"[:2000])
    return extras, failures


def _events_one_by_one(
    events: list[InboundEvent], context: MappingContext, extras: dict[int, Any]
) -> dict[int, EventOutcome]:
    """Ingest *events* one at a time, each in its own savepoint: one bad event stays alone."""
    outcomes = {}
    for event in events:
        if event.pk not in extras:
            continue
        try:
            with transaction.atomic():
                batch = MessageBatch(context.fresh())
                outcomes.update(batch.events_add([event], extras))
                batch.flush()
        except Exception as exc:  # noqa: BLE001 - one bad event must not block the batch
            logger.exception("Processing inbound event %s failed", event.pk)
            outcomes[event.pk] = EventOutcome(OUTCOME_ERROR, f"{type(exc).__name__}: {exc}"[:2000])
    return outcomes


def _events_finish(events: list[InboundEvent], outcomes: dict[int, EventOutcome]) -> dict[str, int]:
    """Record each event's outcome; an event that failed stays pending until its last try."""
    now = timezone.now()
    counts: Counter[str] = Counter()
    plain: dict[str, list[int]] = {}
    for event in events:
        outcome = outcomes[event.pk]
        if outcome.status in (InboundEventStatus.DONE, InboundEventStatus.IGNORED):
            plain.setdefault(outcome.status, []).append(event.pk)
            counts[outcome.status] += 1
            # As the update below writes it, for a caller that holds the object.
            event.status, event.error, event.processed_at = outcome.status, "", now
            event.attempts += 1
            continue
        event.attempts += 1
        event.error = outcome.error
        if outcome.status == OUTCOME_ERROR:
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

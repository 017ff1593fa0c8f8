"""Write outbox items with a change, and deliver them after it commits."""

import datetime
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from rapport.audit.services import audit_changes, audit_record
from rapport.core.errors import Conflict, NotFound
from rapport.core.outside import OutsideRefused, OutsideUnavailable
from rapport.ops.queue import on_commit_once
from rapport.outbox.handlers import HANDLERS
from rapport.outbox.models import DeliveryState, OutboxItem, OutboxStatus
from rapport.users.models import User
from rapport.users.services import user_require_admin

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE_SECONDS = 60
DELIVER_BATCH = 50


def outbox_add(
    action: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    available_at: datetime.datetime | None = None,
) -> OutboxItem | None:
    """Queue an outside call in the current transaction; deliver it once that commits.

    With a *key*, a second call with the same key is dropped (returns None), so a
    retried change never posts twice. With *available_at*, the call waits until then at
    the latest (`outbox_release` sends it sooner).
    """
    if action not in HANDLERS:
        raise ValueError(f"No outbox handler is registered for {action!r}.")
    now = available_at or timezone.now()
    if key is None:
        item = OutboxItem.objects.create(action=action, payload=payload, available_at=now)
    else:
        try:
            # Its own savepoint: a duplicate key must not break the caller's transaction.
            with transaction.atomic():
                item = OutboxItem.objects.create(
                    action=action, payload=payload, key=key, available_at=now
                )
        except IntegrityError:
            return None
    on_commit_once(_enqueue_delivery)
    return item


def outbox_release(key: str) -> bool:
    """Make the waiting call with *key* due now; return whether one was waiting."""
    released = OutboxItem.objects.filter(
        key=key, status=OutboxStatus.PENDING, available_at__gt=timezone.now()
    ).update(available_at=timezone.now())
    if released:
        on_commit_once(_enqueue_delivery)
    return bool(released)


def outbox_failed_requeue(action: str, **payload: Any) -> int:
    """Make the failed calls of *action* whose payload holds these values due again.

    In the current transaction, with a fresh set of tries; return how many. A caller
    that retries a change (a failed reply) uses the call already there, so the failed
    one does not stay listed as failed once the retry went out.
    """
    lookups = {f"payload__{key}": value for key, value in payload.items()}
    count = OutboxItem.objects.filter(action=action, status=OutboxStatus.FAILED, **lookups).update(
        status=OutboxStatus.PENDING, attempts=0, available_at=timezone.now(), leased_until=None
    )
    if count:
        on_commit_once(_enqueue_delivery)
    return count


def outbox_deliver_after_commit() -> None:
    """Have the items written in the current transaction delivered once it commits."""
    on_commit_once(_enqueue_delivery)


def _enqueue_delivery() -> None:
    from rapport.ops.queue import task_enqueue_coalesced
    from rapport.outbox.tasks import outbox_deliver

    task_enqueue_coalesced(outbox_deliver)


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def outbox_claim(limit: int = DELIVER_BATCH) -> list[OutboxItem]:
    """Lease up to *limit* due items, oldest first, so no other dispatcher sends them."""
    now = timezone.now()
    due = (
        OutboxItem.objects.filter(status=OutboxStatus.PENDING, available_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .order_by("id")
        .values_list("pk", "leased_until")[:limit]
    )
    claimed: list[int] = []
    lease = now + datetime.timedelta(seconds=LEASE_SECONDS)
    for pk, leased_until in due:
        # Compare-and-swap on the lease: a dispatcher that read the same row loses here.
        if OutboxItem.objects.filter(
            pk=pk, leased_until=leased_until, status=OutboxStatus.PENDING
        ).update(leased_until=lease):
            claimed.append(pk)
    return list(OutboxItem.objects.filter(pk__in=claimed).order_by("id"))


def outbox_deliver_due(limit: int = DELIVER_BATCH) -> dict[str, int]:
    """Make the due calls; return how many were sent, retried later and failed."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    while items := outbox_claim(limit):
        for item in items:
            counts[outbox_item_send(item)] += 1
        if len(items) < limit:
            break
    return counts


def outbox_item_send(item: OutboxItem) -> str:
    """Make one call and record what came of it: "sent", "retry" or "failed"."""
    now = timezone.now()
    item.attempts += 1
    item.leased_until = None
    item.last_attempt_at = now
    registered = HANDLERS.get(item.action)
    try:
        if registered is None:
            raise OutsideRefused(f"No outbox handler is registered for {item.action!r}.")
        result = registered.handler(item.payload) or {}
    except OutsideUnavailable as exc:
        item.last_error = str(exc)[:2000]
        if item.attempts >= MAX_ATTEMPTS:
            item.status = OutboxStatus.FAILED
            outcome = "failed"
        else:
            wait = datetime.timedelta(seconds=exc.after) if exc.after else _backoff(item.attempts)
            item.available_at = now + wait
            outcome = "retry"
    except OutsideRefused as exc:
        item.status = OutboxStatus.FAILED
        item.last_error = str(exc)[:2000] or type(exc).__name__
        outcome = "failed"
    except Exception as exc:  # noqa: BLE001 - an unexpected error is retried with backoff
        logger.exception("Outbox item %s (%s) failed", item.pk, item.action)
        item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if item.attempts >= MAX_ATTEMPTS:
            item.status = OutboxStatus.FAILED
            outcome = "failed"
        else:
            item.available_at = now + _backoff(item.attempts)
            outcome = "retry"
    else:
        item.status = OutboxStatus.SENT
        item.sent_at = now
        item.result = result
        item.last_error = ""
        outcome = "sent"
    item.save(
        update_fields=[
            "attempts",
            "leased_until",
            "status",
            "available_at",
            "last_error",
            "last_attempt_at",
            "result",
            "sent_at",
        ]
    )
    if outcome == "failed":
        logger.warning(
            "Outbox item %s (%s) failed for good: %s", item.pk, item.action, item.last_error
        )
    if outcome != "sent" and registered is not None and registered.on_failure is not None:
        try:
            registered.on_failure(item.payload, item.last_error, outcome == "failed")
        except Exception:  # noqa: BLE001 - the item's own state is already recorded
            logger.exception("Recording the failure of outbox item %s failed", item.pk)
    return outcome


def outbox_item_retry(*, actor: User, item_id: int) -> OutboxItem:
    """Make a failed or retrying call due now; an admin does it once the cause is fixed.

    A call that failed for good gets a fresh set of tries; a retrying one keeps its
    count and only stops waiting. The object the call is about hears of it (a failed
    reply shows as queued again), and the dispatcher is woken once this commits.
    """
    user_require_admin(actor, "retry an outside call")
    now = timezone.now()
    with transaction.atomic():
        item = OutboxItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise NotFound(f"No outside call with id {item_id}.")
        state = item.delivery_state
        if state == DeliveryState.SENT:
            raise Conflict("This call was made already; there is nothing to retry.")
        if state == DeliveryState.QUEUED:
            raise Conflict("This call has not been tried yet; it goes out on its own.")
        if item.leased_until is not None and item.leased_until > now:
            raise Conflict("This call is being made right now; look again in a minute.")
        before = {
            "status": item.status,
            "attempts": item.attempts,
            "available_at": item.available_at.isoformat(),
        }
        if state == DeliveryState.FAILED:
            item.attempts = 0
        item.status = OutboxStatus.PENDING
        item.available_at = now
        item.leased_until = None
        item.save(update_fields=["status", "attempts", "available_at", "leased_until"])
        registered = HANDLERS.get(item.action)
        if registered is not None and registered.on_requeue is not None:
            registered.on_requeue(item.payload)
        after = {
            "status": item.status,
            "attempts": item.attempts,
            "available_at": item.available_at.isoformat(),
        }
        audit_record(
            actor=actor, action="outbox.retry", obj=item, changes=audit_changes(before, after)
        )
        on_commit_once(_enqueue_delivery)
    return item

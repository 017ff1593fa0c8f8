"""The outbox: calls commit with their change, retry after rate limits, never run twice."""

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from rapport.outbox.handlers import HANDLERS, OutboxFailed, OutboxRetry, Registered
from rapport.outbox.models import OutboxItem, OutboxStatus
from rapport.outbox.services import outbox_add, outbox_claim, outbox_deliver_due

pytestmark = pytest.mark.django_db
CALLS: list[dict[str, Any]] = []


def _record(payload: dict[str, Any]) -> dict[str, Any]:
    if payload.get("rate_limited"):
        raise OutboxRetry("429", after=30)
    if payload.get("broken"):
        raise OutboxFailed("channel_not_found")
    CALLS.append(payload)
    return {"ok": True}


@pytest.fixture(autouse=True)
def recorder() -> Iterator[None]:
    HANDLERS["test.record"] = Registered(_record)
    CALLS.clear()
    yield
    del HANDLERS["test.record"]


def test_an_item_is_sent_once_its_change_commits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        outbox_add("test.record", {"n": 1})
    assert CALLS == [{"n": 1}]
    item = OutboxItem.objects.get()
    assert item.status == OutboxStatus.SENT and item.result == {"ok": True}


def test_a_rolled_back_change_sends_nothing() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_add("test.record", {"n": 1})
        raise RuntimeError("the change failed")
    assert not OutboxItem.objects.exists()
    outbox_deliver_due()
    assert CALLS == []


def test_a_rate_limited_call_waits_for_retry_after() -> None:
    outbox_add("test.record", {"rate_limited": True})
    before = timezone.now()
    assert outbox_deliver_due() == {"sent": 0, "retry": 1, "failed": 0}
    item = OutboxItem.objects.get()
    assert item.status == OutboxStatus.PENDING
    assert item.available_at >= before + datetime.timedelta(seconds=29)
    assert outbox_deliver_due() == {"sent": 0, "retry": 0, "failed": 0}  # not due yet
    item.payload = {"n": 2}
    item.available_at = timezone.now()
    item.save()
    assert outbox_deliver_due()["sent"] == 1
    assert CALLS == [{"n": 2}]


def test_a_permanent_failure_stops_retrying() -> None:
    outbox_add("test.record", {"broken": True})
    assert outbox_deliver_due()["failed"] == 1
    item = OutboxItem.objects.get()
    assert item.status == OutboxStatus.FAILED and "channel_not_found" in item.last_error


def test_a_key_deduplicates_a_repeated_call() -> None:
    assert outbox_add("test.record", {"n": 1}, key="once") is not None
    assert outbox_add("test.record", {"n": 1}, key="once") is None
    outbox_deliver_due()
    assert CALLS == [{"n": 1}]


def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="No outbox handler"):
        outbox_add("test.nothing", {})


def test_a_leased_item_is_not_claimed_twice_until_its_lease_expires() -> None:
    outbox_add("test.record", {"n": 1})
    assert len(outbox_claim()) == 1
    assert outbox_claim() == []  # a second dispatcher skips it
    OutboxItem.objects.update(leased_until=timezone.now() - datetime.timedelta(seconds=1))
    assert len(outbox_claim()) == 1  # a dead dispatcher's lease ran out


def test_each_try_records_when_it_ended() -> None:
    outbox_add("test.record", {"rate_limited": True})
    before = timezone.now()
    outbox_deliver_due()
    item = OutboxItem.objects.get()
    assert item.last_attempt_at is not None and item.last_attempt_at >= before

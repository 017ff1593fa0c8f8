"""GET /healthz: what a load balancer or an operator sees."""

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.inbox.models import InboundEvent
from rapport.inbox.services import DELIVER_ACTION, ticket_store
from rapport.ops.models import Heartbeat
from rapport.ops.tasks import worker_heartbeat
from rapport.outbox.models import OutboxItem
from rapport.outbox.services import outbox_add

pytestmark = pytest.mark.django_db


def test_health_answers_200_with_database_and_worker_state(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["worker"] == "no heartbeat yet"
    assert body["worker_last_heartbeat"] is None
    assert "no-cache" in response["Cache-Control"]


def test_the_worker_is_ok_after_the_heartbeat_task_ran(client: Client) -> None:
    worker_heartbeat.enqueue()  # the test settings run tasks inline
    body = client.get("/healthz").json()
    assert body["worker"] == "ok"
    beat = datetime.datetime.fromisoformat(body["worker_last_heartbeat"])
    assert timezone.now() - beat < datetime.timedelta(minutes=1)


def test_an_old_heartbeat_shows_the_worker_as_stale(client: Client) -> None:
    worker_heartbeat.enqueue()
    Heartbeat.objects.update(beat_at=timezone.now() - datetime.timedelta(minutes=10))
    response = client.get("/healthz")
    # A dead worker means nothing is processed: the installation needs a restart.
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["worker"].startswith("stale")
    assert "600" in body["worker"] or "601" in body["worker"]


def test_the_staleness_limit_comes_from_settings(client: Client, settings: Any) -> None:
    settings.WORKER_HEARTBEAT_MAX_AGE = 3600
    worker_heartbeat.enqueue()
    Heartbeat.objects.update(beat_at=timezone.now() - datetime.timedelta(minutes=10))
    assert client.get("/healthz").json()["worker"] == "ok"


def test_health_needs_no_login_and_only_answers_get(client: Client) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


# --- what waits: listed in the body, never a 503 -------------------------------------------


def _ticket(n: int, *, minutes_ago: int) -> int:
    """Store an API ticket no worker has processed, received *minutes_ago*."""
    body = {"requester_email": f"jo{n}@acme.example", "subject": f"Ticket {n}", "body": "?"}
    event, _ = ticket_store(body=body, idempotency_key=f"health-{n}")
    InboundEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )
    return event.pk


def test_events_waiting_past_the_limit_are_listed_oldest_first_with_200(client: Client) -> None:
    newest, oldest = _ticket(1, minutes_ago=7), _ticket(2, minutes_ago=40)
    _ticket(3, minutes_ago=1)  # a healthy backlog, not stuck

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["stuck_after_seconds"] == 300
    assert body["inbound"]["stuck"] == 2
    assert [e["id"] for e in body["inbound"]["oldest"]] == [oldest, newest]
    first = body["inbound"]["oldest"][0]
    assert first["source"] == "api" and first["attempts"] == 0 and first["error"] == ""
    assert 40 * 60 <= first["age_seconds"] < 41 * 60


def test_only_the_oldest_few_are_listed_but_all_are_counted(client: Client) -> None:
    for n in range(8):
        _ticket(n, minutes_ago=10 + n)
    body = client.get("/healthz").json()
    assert body["inbound"]["stuck"] == 8
    assert len(body["inbound"]["oldest"]) == 5


def test_the_limit_comes_from_settings(client: Client, settings: Any) -> None:
    settings.HEALTH_STUCK_AFTER_SECONDS = 3600
    _ticket(1, minutes_ago=30)
    body = client.get("/healthz").json()
    assert body["inbound"] == {"stuck": 0, "oldest": []}


def test_outside_calls_overdue_are_listed_with_200(client: Client) -> None:
    item = outbox_add(DELIVER_ACTION, {"message_id": 1})
    assert item is not None
    OutboxItem.objects.filter(pk=item.pk).update(
        available_at=timezone.now() - datetime.timedelta(minutes=9)
    )
    later = outbox_add(DELIVER_ACTION, {"message_id": 2})  # due now: not overdue
    assert later is not None

    response = client.get("/healthz")

    assert response.status_code == 200
    outbox = response.json()["outbox"]
    assert outbox["overdue"] == 1
    [overdue] = outbox["oldest"]
    assert (overdue["id"], overdue["action"]) == (item.pk, DELIVER_ACTION)
    assert 9 * 60 <= overdue["overdue_seconds"] < 10 * 60

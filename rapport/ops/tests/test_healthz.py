"""GET /healthz: what a load balancer or an operator sees."""

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.ops.models import Heartbeat
from rapport.ops.tasks import worker_heartbeat

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

"""The Events API endpoint: verification, the handshake, unsupported types, idempotency."""

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from rapport.inbox.models import InboundEvent, Message
from rapport.integrations.slack.tests.conftest import (
    EVENTS_URL,
    FakeSlackApi,
    Response,
    payload,
    post_signed,
    signed_headers,
)

pytestmark = pytest.mark.django_db

Deliver = Callable[..., Response]


def test_url_verification_answers_the_challenge_and_stores_nothing(
    slack: FakeSlackApi, deliver: Deliver
) -> None:
    body = payload("url_verification")
    response = deliver(body)
    assert response.status_code == 200
    assert response.json() == {"challenge": body["challenge"]}
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda raw, h: (raw, h | {"X-Slack-Signature": "v0=" + "0" * 64}), id="wrong"),
        pytest.param(lambda raw, h: (raw.replace(b"Hi team", b"Hi tean"), h), id="body-changed"),
        pytest.param(lambda raw, h: (raw, {}), id="unsigned"),
        pytest.param(
            lambda raw, h: (raw, signed_headers(raw, secret="another-apps-secret")), id="other-app"
        ),
    ],
)
def test_a_bad_signature_is_refused_with_401_and_nothing_is_stored(
    slack: FakeSlackApi, client: Client, tamper: Callable[..., Any]
) -> None:
    raw = json.dumps(payload("message")).encode()
    raw, headers = tamper(raw, signed_headers(raw))
    response = client.post(EVENTS_URL, data=raw, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert "signature" in response.json()["error"]
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("age", [6 * 60, -6 * 60], ids=["old", "future"])
def test_a_signature_more_than_five_minutes_off_is_refused(
    slack: FakeSlackApi, client: Client, age: int
) -> None:
    response = post_signed(client, payload("message"), timestamp=int(time.time()) - age)
    assert response.status_code == 401
    assert "5 minutes" in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_a_signature_four_minutes_old_is_accepted(slack: FakeSlackApi, deliver: Deliver) -> None:
    response = deliver("message", timestamp=int(time.time()) - 4 * 60)
    assert response.status_code == 200
    assert InboundEvent.objects.count() == 1


def test_without_a_signing_secret_the_endpoint_answers_503(
    slack: FakeSlackApi, settings: Any, client: Client
) -> None:
    settings.SLACK_SIGNING_SECRET = ""
    response = post_signed(client, payload("message"))
    assert response.status_code == 503
    assert "SLACK_SIGNING_SECRET" in response.json()["error"]
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("name", ["reaction_added", "app_mention"])
def test_an_unsupported_event_type_gets_a_clear_200_and_is_not_stored(
    slack: FakeSlackApi, deliver: Deliver, name: str
) -> None:
    response = deliver(name)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "unsupported": name}
    assert not InboundEvent.objects.exists()


def test_an_unsupported_payload_type_gets_a_clear_200(
    slack: FakeSlackApi, deliver: Deliver
) -> None:
    body = {
        "token": "rapportlegacyverify0001",
        "type": "app_rate_limited",
        "team_id": "T0123ABCD",
        "minute_rate_limited": 1767225600,
        "api_app_id": "A0RAPPORT1",
    }
    response = deliver(body)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "unsupported": "app_rate_limited"}


def test_a_signed_body_that_is_not_json_is_a_400(slack: FakeSlackApi, client: Client) -> None:
    response = post_signed(client, b"{not json")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_an_unsigned_body_that_is_not_json_is_a_401(slack: FakeSlackApi, client: Client) -> None:
    response = client.post(EVENTS_URL, data=b"{not json", content_type="application/json")
    assert response.status_code == 401


def test_a_message_event_without_an_event_id_is_a_400(
    slack: FakeSlackApi, deliver: Deliver
) -> None:
    body = payload("message")
    del body["event_id"]
    response = deliver(body)
    assert response.status_code == 400
    assert "event_id" in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_only_post_is_allowed(slack: FakeSlackApi, client: Client) -> None:
    assert client.get(EVENTS_URL).status_code == 405


def test_a_message_is_stored_as_its_envelope_without_the_verification_token(
    slack: FakeSlackApi, deliver: Deliver
) -> None:
    body = payload("message")
    response = deliver(body)
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert (event.source, event.external_id) == ("slack", "Ev0A1MSG0001")
    assert "token" not in event.payload
    assert event.payload["event"] == body["event"]
    assert event.payload["authorizations"] == body["authorizations"]


def test_the_same_event_delivered_three_times_yields_one_message(
    slack: FakeSlackApi, deliver: Deliver
) -> None:
    first = deliver("message")
    retry = deliver("message", {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    again = deliver("message", {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})
    assert [r.status_code for r in (first, retry, again)] == [200, 200, 200]
    assert InboundEvent.objects.count() == 1
    assert InboundEvent.objects.get().status == "done"
    assert Message.objects.count() == 1
    assert len(slack.asked("users.info")) == 1


def test_a_delivery_that_cannot_be_stored_answers_500_so_slack_retries(
    slack: FakeSlackApi, deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_store(**kwargs: Any) -> None:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr("rapport.integrations.slack.bolt.inbound_event_store", broken_store)
    assert deliver("message").status_code == 500
    assert not InboundEvent.objects.exists()

"""The API channel on the Integrations page: a signed ping to the webhook, and its state."""

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from rapport.integrations.api.services import outbound_webhook_get, outbound_webhook_url_set
from rapport.integrations.api.tests.kit import Receiver, webhook_receiver
from rapport.integrations.models import IntegrationHealth
from rapport.users.models import User

pytestmark = pytest.mark.django_db

PAGE = reverse("integrations:list")
TEST = reverse("integrations:test", args=["api"])


@pytest.fixture
def receiver(admin_user: User) -> Iterator[Receiver]:
    with webhook_receiver() as fake:
        outbound_webhook_url_set(actor=admin_user, url=fake.url)
        yield fake


def _api_card(page: str) -> str:
    start = page.index('id="integration-api"')
    return page[start : page.index("</section>", start)]


def test_the_test_posts_a_signed_ping_to_the_webhook(
    receiver: Receiver, admin_client: Client
) -> None:
    assert admin_client.post(TEST).status_code == 302

    [call] = receiver.received()
    assert json.loads(call.body)["type"] == "ping"
    secret = outbound_webhook_get().secret
    timestamp = call.headers["X-Rapport-Timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + call.body, hashlib.sha256
    ).hexdigest()
    assert call.headers["X-Rapport-Signature"] == expected
    health = IntegrationHealth.objects.get(key="api")
    assert health.test_ok is True
    assert health.test_detail == f"{receiver.url} answered the signed ping with HTTP 204."
    card = _api_card(admin_client.get(PAGE).content.decode())
    assert 'data-state="connected"' in card
    assert f"Replies posted to {receiver.url}" in card


def test_a_webhook_that_answers_500_fails_the_test_and_the_integration(
    receiver: Receiver, admin_client: Client
) -> None:
    receiver.status = 500
    admin_client.post(TEST)
    health = IntegrationHealth.objects.get(key="api")
    assert health.test_ok is False
    assert health.test_detail == "The webhook answered HTTP 500."
    card = _api_card(admin_client.get(PAGE).content.decode())
    assert 'data-state="failing"' in card
    assert "The webhook answered HTTP 500." in card


def test_without_a_url_there_is_nothing_to_ping(admin_client: Client) -> None:
    admin_client.post(TEST)
    health = IntegrationHealth.objects.get(key="api")
    assert health.test_ok is False and health.test_detail.startswith("No webhook URL is set")
    card = _api_card(admin_client.get(PAGE).content.decode())
    assert "No webhook URL: replies are only read through the API" in card
    # A test with nothing to call is no sign that the channel fails.
    assert 'data-state="failing"' not in card

"""Slack on the Integrations page and on /healthz: never silent when it cannot be reached.

Slack's Web API is the local fake (`slack` fixture), or an address nobody listens on.
"""

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.audit.models import AuditEntry
from rapport.inbox.ingest import inbound_events_process
from rapport.inbox.models import InboundEvent, InboundEventStatus
from rapport.inbox.services import inbound_event_store
from rapport.integrations.models import IntegrationHealth
from rapport.integrations.slack.client import SlackRefused, slack_api_call
from rapport.integrations.slack.tests.conftest import (
    BOT_TOKEN,
    CHANNEL,
    SIGNING_SECRET,
    TEAM,
    FakeSlackApi,
    payload,
)
from rapport.users.models import User

pytestmark = pytest.mark.django_db

PAGE = reverse("integrations:list")
TEST = reverse("integrations:test", args=["slack"])
NOBODY_LISTENS = "http://127.0.0.1:9/api/"


def _slack_card(page: str) -> str:
    """The Slack section of the Integrations page."""
    start = page.index('id="integration-slack"')
    return page[start : page.index("</section>", start)]


def _store_message_event(event_id: str = "Ev0STUCK0001") -> InboundEvent:
    body = payload("message")
    body["event_id"] = event_id
    body["team_id"] = TEAM
    body["event"].update(channel=CHANNEL, user="U0NEWCOMER")
    event, created = inbound_event_store(source="slack", external_id=event_id, payload=body)
    assert created
    return event


def _configure(settings: Any, api_url: str) -> None:
    settings.SLACK_BOT_TOKEN = BOT_TOKEN
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.SLACK_APP_TOKEN = ""
    settings.SLACK_API_URL = api_url


def test_a_stuck_event_while_slack_is_unreachable_shows_on_healthz_and_as_failing(
    settings: Any, admin_client: Client
) -> None:
    _configure(settings, NOBODY_LISTENS)
    event = _store_message_event()
    InboundEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - datetime.timedelta(minutes=12)
    )
    inbound_events_process([event.pk])  # the worker's try: users.info cannot connect
    event.refresh_from_db()
    assert event.status == InboundEventStatus.PENDING and event.attempts == 1
    assert "could not be reached for users.info" in event.error

    health = Client().get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok"
    assert body["inbound"]["stuck"] == 1
    [stuck] = body["inbound"]["oldest"]
    assert (stuck["id"], stuck["source"], stuck["attempts"]) == (event.pk, "slack", 1)
    assert 12 * 60 <= stuck["age_seconds"] < 13 * 60
    assert "could not be reached for users.info" in stuck["error"]

    response = admin_client.get(PAGE)
    assert response.status_code == 200
    card = _slack_card(response.content.decode())
    assert 'data-state="failing"' in card
    assert "could not be reached for users.info" in card
    assert "<strong>1</strong> not processed yet, 1 failing" in card


def test_slack_is_connected_once_its_calls_go_through_again(
    slack: FakeSlackApi, settings: Any, admin_client: Client
) -> None:
    live_url = settings.SLACK_API_URL
    settings.SLACK_API_URL = NOBODY_LISTENS
    event = _store_message_event()
    inbound_events_process([event.pk])
    assert 'data-state="failing"' in _slack_card(admin_client.get(PAGE).content.decode())

    settings.SLACK_API_URL = live_url
    slack.add_user("U0NEWCOMER", email="nia@acmecorp.example", real_name="Nia New")
    assert inbound_events_process([event.pk]) == {"done": 1}

    card = _slack_card(admin_client.get(PAGE).content.decode())
    assert 'data-state="connected"' in card
    assert "None" in card  # no event waiting
    assert "could not be reached" not in card


def test_a_refusal_about_one_call_does_not_make_slack_failing(slack: FakeSlackApi) -> None:
    slack.errors["chat.postMessage"] = "channel_not_found"
    with pytest.raises(SlackRefused):
        slack_api_call("chat.postMessage", channel="C0GONE", text="hi")
    health = IntegrationHealth.objects.get(key="slack")
    assert health.last_ok_at is not None and not health.failing


def test_a_refused_token_makes_slack_failing(slack: FakeSlackApi, admin_client: Client) -> None:
    slack.errors["users.info"] = "invalid_auth"
    with pytest.raises(SlackRefused):
        slack_api_call("users.info", user="U0789JANE")
    card = _slack_card(admin_client.get(PAGE).content.decode())
    assert 'data-state="failing"' in card
    assert "Slack refused users.info: invalid_auth." in card


def test_without_a_bot_token_slack_is_not_configured(settings: Any, admin_client: Client) -> None:
    settings.SLACK_BOT_TOKEN = ""
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.SLACK_APP_TOKEN = ""
    card = _slack_card(admin_client.get(PAGE).content.decode())
    assert 'data-state="not_configured"' in card
    assert "SLACK_BOT_TOKEN is not set" in card
    assert "Events API at /integrations/slack/events" in card


def test_socket_mode_needs_no_signing_secret(settings: Any, admin_client: Client) -> None:
    settings.SLACK_BOT_TOKEN = BOT_TOKEN
    settings.SLACK_SIGNING_SECRET = ""
    settings.SLACK_APP_TOKEN = "xapp-1-test"
    card = _slack_card(admin_client.get(PAGE).content.decode())
    assert 'data-state="unchecked"' in card
    assert "Socket Mode" in card


# --- "Test connection" ---------------------------------------------------------------------


def test_the_connection_test_calls_auth_test_and_names_the_workspace_and_bot(
    slack: FakeSlackApi, admin_client: Client, admin_user: User
) -> None:
    response = admin_client.post(TEST)

    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}#integration-slack"
    [call] = slack.asked("auth.test")
    assert call["authorization"] == f"Bearer {BOT_TOKEN}"
    health = IntegrationHealth.objects.get(key="slack")
    assert health.test_ok is True and health.tested_by == admin_user
    assert health.test_detail == "Connected to Acme Support as rapport."
    entry = AuditEntry.objects.get(action="integration.test")
    assert entry.actor == admin_user
    assert entry.changes == {
        "test": {"before": None, "after": "ok: Connected to Acme Support as rapport."}
    }
    page = admin_client.get(PAGE).content.decode()
    assert "Connection test passed: Connected to Acme Support as rapport." in page
    card = _slack_card(page)
    assert 'data-state="connected"' in card
    assert "Passed" in card and "by Ada Admin" in card


def test_a_bad_token_fails_the_test_with_slacks_error(
    slack: FakeSlackApi, admin_client: Client
) -> None:
    slack.errors["auth.test"] = "invalid_auth"

    assert admin_client.post(TEST).status_code == 302

    health = IntegrationHealth.objects.get(key="slack")
    assert health.test_ok is False
    assert health.test_detail == "Slack refused auth.test: invalid_auth."
    page = admin_client.get(PAGE).content.decode()
    assert "Connection test failed: Slack refused auth.test: invalid_auth." in page
    assert 'data-state="failing"' in _slack_card(page)


def test_an_unreachable_slack_fails_the_test(settings: Any, admin_client: Client) -> None:
    _configure(settings, NOBODY_LISTENS)
    assert admin_client.post(TEST).status_code == 302
    health = IntegrationHealth.objects.get(key="slack")
    assert health.test_ok is False
    assert health.test_detail.startswith("Slack could not be reached for auth.test")


def test_without_a_token_the_test_says_so_and_calls_nothing(
    fake_slack_api: FakeSlackApi, settings: Any, admin_client: Client
) -> None:
    _configure(settings, fake_slack_api.url)
    settings.SLACK_BOT_TOKEN = ""
    admin_client.post(TEST)
    assert fake_slack_api.calls == []
    assert IntegrationHealth.objects.get(key="slack").test_detail.startswith(
        "SLACK_BOT_TOKEN is not set"
    )


def test_a_member_cannot_run_the_test(slack: FakeSlackApi, member_client: Client) -> None:
    assert member_client.post(TEST).status_code == 403
    assert slack.asked("auth.test") == []
    assert not IntegrationHealth.objects.exists()
    assert not AuditEntry.objects.filter(action="integration.test").exists()

"""The cached Slack profiles and the channel registration, against the fake Web API."""

import datetime
import socket
from typing import Any

import pytest
from django.utils import timezone

from rapport.integrations.slack.client import SlackRefused, SlackUnavailable
from rapport.integrations.slack.models import SlackUser
from rapport.integrations.slack.services import slack_channel_register, slack_user_resolve
from rapport.integrations.slack.tests.conftest import CHANNEL, CUSTOMER, TEAM, FakeSlackApi

pytestmark = pytest.mark.django_db


def _age(days: float) -> None:
    SlackUser.objects.update(fetched_at=timezone.now() - datetime.timedelta(days=days))


def test_a_profile_is_fetched_once_and_cached(slack: FakeSlackApi) -> None:
    first = slack_user_resolve(team_id=TEAM, user_id=CUSTOMER)
    again = slack_user_resolve(team_id=TEAM, user_id=CUSTOMER)
    assert first.pk == again.pk
    assert (again.email, again.real_name, again.is_bot) == (
        "jane.doe@acmecorp.example",
        "Jane Doe",
        False,
    )
    assert len(slack.asked("users.info")) == 1


def test_a_profile_older_than_a_day_is_fetched_again(slack: FakeSlackApi) -> None:
    slack_user_resolve(team_id=TEAM, user_id=CUSTOMER)
    _age(days=2)
    slack.add_user(CUSTOMER, email="jane@acmecorp.example", real_name="Jane Smith")
    profile = slack_user_resolve(team_id=TEAM, user_id=CUSTOMER)
    assert (profile.email, profile.real_name) == ("jane@acmecorp.example", "Jane Smith")
    assert len(slack.asked("users.info")) == 2


def test_a_stale_profile_serves_while_slack_is_rate_limiting(slack: FakeSlackApi) -> None:
    slack_user_resolve(team_id=TEAM, user_id=CUSTOMER)
    _age(days=2)
    slack.rate_limited.add("users.info")
    assert slack_user_resolve(team_id=TEAM, user_id=CUSTOMER).email == ("jane.doe@acmecorp.example")


def test_an_unreachable_slack_is_reported_as_unavailable(settings: Any) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.SLACK_API_URL = f"http://127.0.0.1:{port}/api"
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    with pytest.raises(SlackUnavailable, match="could not be reached for users.info"):
        slack_user_resolve(team_id=TEAM, user_id=CUSTOMER)
    assert not SlackUser.objects.exists()


def test_a_setup_error_is_raised_for_the_ingest_to_record(slack: FakeSlackApi) -> None:
    slack.errors["users.info"] = "missing_scope"
    with pytest.raises(SlackRefused, match="missing_scope"):
        slack_user_resolve(team_id=TEAM, user_id=CUSTOMER)


def test_a_known_channel_needs_no_lookup(slack: FakeSlackApi) -> None:
    first = slack_channel_register(team_id=TEAM, channel_id=CHANNEL, is_private=False)
    again = slack_channel_register(team_id=TEAM, channel_id=CHANNEL, is_private=True)
    assert first.pk == again.pk
    assert (again.name, again.is_private) == ("acme-support", False)
    assert len(slack.asked("conversations.info")) == 1

"""From a signed Slack delivery to a request on the board, assigned by a thread reply."""

import copy
from collections.abc import Callable

import pytest
from django.test import Client

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Channel
from rapport.inbox.services import channel_create, channel_set_accounts
from rapport.integrations.slack.tests.conftest import CHANNEL, TEAM, FakeSlackApi, Response, payload
from rapport.outbox.models import OutboxItem
from rapport.requests.models import Request, RequestStatus
from rapport.users.models import User

pytestmark = pytest.mark.django_db

Deliver = Callable[..., Response]


@pytest.fixture
def acme(db: None) -> Account:
    account = make_account("Acme Corp", domain="acme.example")
    channel = channel_create(slack_team_id=TEAM, slack_channel_id=CHANNEL, name="acme-support")
    channel_set_accounts(actor=None, channel=channel, accounts=[account])
    return account


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    user = make_user("max@rapport.example", name="Max Member")
    User.objects.filter(pk=user.pk).update(slack_user_id="U0111MAX")
    user.refresh_from_db()
    return user


def test_a_customer_question_becomes_a_request_and_a_thread_reply_assigns_it(
    slack: FakeSlackApi, deliver: Deliver, acme: Account, agent: User, client: Client
) -> None:
    assert deliver("message").status_code == 200
    request = Request.objects.get()
    assert request.status == RequestStatus.OPEN
    assert request.account == acme
    assert request.assignee is None

    client.force_login(agent)
    board = client.get("/requests/")
    assert board.status_code == 200
    assert "Hi team, our exports to reports fail since this morning" in board.content.decode()

    reply = copy.deepcopy(payload("thread_reply"))
    reply["event_id"] = "Ev0A1RPL0099"
    reply["event"].update(user="U0111MAX", text="Looking into it now!", ts="1767225700.000300")
    reply["event"]["event_ts"] = "1767225700.000300"
    assert deliver(reply).status_code == 200
    request.refresh_from_db()
    assert request.assignee == agent
    assert request.first_responder == agent
    assert request.first_response_at is not None


def test_a_member_who_writes_in_slack_is_recognised_by_email_and_linked(
    slack: FakeSlackApi, deliver: Deliver, acme: Account, make_user: Callable[..., User]
) -> None:
    kim = make_user("kim@rapport.example", name="Kim Member")
    slack.add_user("U0222KIM", email="kim@rapport.example", real_name="Kim Member")
    reply = copy.deepcopy(payload("message"))
    reply["event_id"] = "Ev0A1KIM0001"
    reply["event"].update(user="U0222KIM", text="Hello from the team, any questions?")
    assert deliver(reply).status_code == 200
    kim.refresh_from_db()
    assert kim.slack_user_id == "U0222KIM"
    # The team's own message is never a request.
    assert not Request.objects.exists()


def test_a_new_request_goes_to_the_csm_an_admin_set_for_the_channel(
    slack: FakeSlackApi, deliver: Deliver, acme: Account, agent: User, admin_api: Client
) -> None:
    channel = Channel.objects.get(slack_channel_id=CHANNEL)
    response = admin_api.patch(
        f"/api/v1/channels/{channel.pk}", {"csm": agent.pk}, content_type="application/json"
    )
    assert response.status_code == 200

    assert deliver("message").status_code == 200

    # "Assign to the channel's CSM" is on by default.
    request = Request.objects.get()
    assert request.channel == channel
    assert request.assignee == agent
    assert OutboxItem.objects.filter(action="slack.dm", payload__user="U0111MAX").exists()

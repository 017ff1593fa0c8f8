"""Slack deliveries all the way to conversations: mapping, threads, edits, authors, retries."""

from collections.abc import Callable
from typing import Any

import pytest

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account
from rapport.inbox.ingest import inbound_events_process
from rapport.inbox.models import Channel, Conversation, InboundEvent, Message
from rapport.inbox.services import channel_create, channel_set_accounts
from rapport.integrations.slack.models import SlackUser
from rapport.integrations.slack.tests.conftest import (
    BOT_TOKEN,
    CHANNEL,
    TEAM,
    FakeSlackApi,
    Response,
    payload,
)
from rapport.mapping.models import MappingDecision
from rapport.users.models import User

pytestmark = pytest.mark.django_db

Deliver = Callable[..., Response]
ROOT = f"{TEAM}:{CHANNEL}:1767225600.000100"


@pytest.fixture
def acme(db: None) -> Account:
    """Acme, whose shared channel #acme-support is linked to it alone."""
    account = make_account("Acme Corp", domain="acme.example")
    channel = channel_create(slack_team_id=TEAM, slack_channel_id=CHANNEL, name="acme-support")
    channel_set_accounts(actor=None, channel=channel, accounts=[account])
    return account


@pytest.fixture
def max_member(make_user: Callable[..., User]) -> User:
    user = make_user("max@rapport.example", name="Max Member")
    User.objects.filter(pk=user.pk).update(slack_user_id="U0111MAX")
    user.refresh_from_db()
    return user


def test_a_customer_message_in_a_linked_channel_joins_that_account(
    slack: FakeSlackApi, deliver: Deliver, acme: Account
) -> None:
    assert deliver("message").status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.source == "slack"
    assert conversation.thread_key == ROOT
    assert conversation.account == acme
    assert conversation.mapping_method == "slack_channel"
    assert conversation.channel == Channel.objects.get(slack_channel_id=CHANNEL)
    assert conversation.requester_email == "jane.doe@acmecorp.example"
    assert conversation.requester_name == "Jane Doe"
    decision = MappingDecision.objects.get(conversation=conversation)
    assert decision.reason == "Linked to Acme Corp by the Slack channel #acme-support."
    message = Message.objects.get()
    assert message.external_id == ROOT
    assert message.direction == "inbound"
    assert message.author_external_id == "U0789JANE"
    assert message.text == payload("message")["event"]["text"]  # Slack markup kept
    assert message.sent_at.isoformat() == "2026-01-01T00:00:00.000100+00:00"
    assert InboundEvent.objects.get().status == "done"
    # users.info was asked with the bot token; the known channel needed no lookup.
    [asked] = slack.asked("users.info")
    assert asked["user"] == "U0789JANE"
    assert asked["authorization"] == f"Bearer {BOT_TOKEN}"
    assert slack.asked("conversations.info") == []


def test_the_requester_becomes_a_contact_of_the_account(
    slack: FakeSlackApi, deliver: Deliver, acme: Account
) -> None:
    deliver("message")
    conversation = Conversation.objects.get()
    assert conversation.requester is not None
    assert conversation.requester.email == "jane.doe@acmecorp.example"
    assert conversation.requester.name == "Jane Doe"
    assert list(acme.contacts.values_list("email", flat=True)) == ["jane.doe@acmecorp.example"]


def test_a_thread_reply_joins_the_same_conversation(
    slack: FakeSlackApi, deliver: Deliver, acme: Account
) -> None:
    deliver("message")
    deliver("thread_reply")
    conversation = Conversation.objects.get()
    assert conversation.message_count == 2
    assert list(conversation.messages.values_list("text", flat=True)) == [
        payload("message")["event"]["text"],
        "It is the *weekly* export, the daily one works.",
    ]
    assert len(slack.asked("users.info")) == 1  # the profile is cached


def test_a_thread_reply_whose_parent_was_never_seen_starts_the_thread_conversation(
    slack: FakeSlackApi, deliver: Deliver, acme: Account
) -> None:
    deliver("thread_reply")
    assert Conversation.objects.get().thread_key == ROOT


def test_an_edit_changes_the_text(slack: FakeSlackApi, deliver: Deliver, acme: Account) -> None:
    deliver("message")
    deliver("message_changed")
    message = Message.objects.get()
    assert message.text == "Hi team, our CSV exports fail since this morning. Can you help?"
    assert message.edited_at is not None
    assert message.edited_at.isoformat() == "2026-01-01T00:02:00+00:00"
    assert InboundEvent.objects.get(external_id="Ev0A1CHG0003").status == "done"


def test_a_change_that_is_not_an_edit_leaves_the_message_alone(
    slack: FakeSlackApi, deliver: Deliver, acme: Account
) -> None:
    """Slack reports a new reply count or an unfurled link as message_changed too."""
    deliver("message")
    body = payload("message_changed")
    del body["event"]["message"]["edited"]
    body["event"]["message"]["text"] = payload("message")["event"]["text"]
    body["event"]["message"]["reply_count"] = 1
    deliver(body)
    message = Message.objects.get()
    assert message.edited_at is None
    assert InboundEvent.objects.get(external_id="Ev0A1CHG0003").status == "ignored"


def test_a_delete_marks_the_message_deleted(
    slack: FakeSlackApi, deliver: Deliver, acme: Account
) -> None:
    deliver("message")
    deliver("message_deleted")
    message = Message.objects.get()
    assert message.deleted_at is not None
    assert message.deleted_at.isoformat() == "2026-01-01T00:03:00.000400+00:00"


def test_a_team_members_message_is_outbound_and_not_a_requester(
    slack: FakeSlackApi, deliver: Deliver, acme: Account, max_member: User
) -> None:
    deliver("message")
    reply = payload("thread_reply")
    reply["event"]["user"] = "U0111MAX"
    reply["event"]["text"] = "Looking into it now."
    deliver(reply)
    conversation = Conversation.objects.get()
    assert conversation.requester_email == "jane.doe@acmecorp.example"
    message = conversation.messages.get(author_external_id="U0111MAX")
    assert message.direction == "outbound"
    assert message.author_user == max_member
    assert message.author_name == "Max Member"
    assert [a["user"] for a in slack.asked("users.info")] == ["U0789JANE"]
    assert "max@rapport.example" not in acme.contacts.values_list("email", flat=True)


def test_a_conversation_a_team_member_starts_has_no_requester(
    slack: FakeSlackApi, deliver: Deliver, acme: Account, max_member: User
) -> None:
    body = payload("message")
    body["event"]["user"] = "U0111MAX"
    deliver(body)
    conversation = Conversation.objects.get()
    assert conversation.requester_email == ""
    assert conversation.account == acme  # the channel still tells the account
    assert Message.objects.get().direction == "outbound"


@pytest.mark.parametrize("name", ["bot_message", "channel_join"])
def test_bot_messages_and_channel_noise_are_ignored(
    slack: FakeSlackApi, deliver: Deliver, acme: Account, name: str
) -> None:
    assert deliver(name).status_code == 200
    assert InboundEvent.objects.get().status == "ignored"
    assert not Conversation.objects.exists()
    assert slack.calls == []


def test_a_message_from_an_app_user_is_ignored(
    slack: FakeSlackApi, deliver: Deliver, acme: Account
) -> None:
    slack.add_user("U0APPUSER", email="", real_name="Ticket Bot", is_bot=True)
    body = payload("message")
    body["event"]["user"] = "U0APPUSER"
    deliver(body)
    assert InboundEvent.objects.get().status == "ignored"
    assert not Conversation.objects.exists()


def test_an_unknown_channel_is_registered_with_its_name_from_slack(
    slack: FakeSlackApi, deliver: Deliver
) -> None:
    slack.add_channel("C0999NEW", name="globex-shared", is_private=True)
    first = payload("message")
    first["event"]["channel"] = "C0999NEW"
    second = payload("thread_reply")
    second["event"]["channel"] = "C0999NEW"
    deliver(first)
    deliver(second)
    channel = Channel.objects.get(slack_team_id=TEAM, slack_channel_id="C0999NEW")
    assert channel.name == "globex-shared"
    assert channel.is_private
    assert [a["channel"] for a in slack.asked("conversations.info")] == ["C0999NEW"]
    conversation = Conversation.objects.get()
    assert conversation.channel == channel
    assert conversation.message_count == 2


def test_a_channel_slack_will_not_describe_is_named_by_its_id(
    slack: FakeSlackApi, deliver: Deliver
) -> None:
    body = payload("message")
    body["event"]["channel"] = "C0SECRET1"
    deliver(body)
    assert Channel.objects.get(slack_channel_id="C0SECRET1").name == "C0SECRET1"
    assert InboundEvent.objects.get().status == "done"


def test_a_users_info_rate_limit_leaves_the_event_pending_until_slack_recovers(
    slack: FakeSlackApi, deliver: Deliver, acme: Account
) -> None:
    slack.rate_limited.add("users.info")
    assert deliver("message").status_code == 200
    event = InboundEvent.objects.get()
    assert event.status == "pending"
    assert event.attempts == 1
    assert "rate-limited users.info" in event.error
    assert "retry after 30 s" in event.error
    assert not Message.objects.exists()
    assert not SlackUser.objects.exists()

    slack.rate_limited.clear()
    assert inbound_events_process([event.pk]) == {"done": 1}
    event.refresh_from_db()
    assert (event.status, event.attempts, event.error) == ("done", 2, "")
    assert Conversation.objects.get().account == acme
    assert Message.objects.get().author_name == "Jane Doe"


def test_a_user_slack_does_not_know_still_leaves_a_message(
    slack: FakeSlackApi, deliver: Deliver, acme: Account
) -> None:
    body = payload("message")
    body["event"]["user"] = "U0GONE001"
    deliver(body)
    message = Message.objects.get()
    assert (message.author_name, message.author_email) == ("U0GONE001", "")
    assert Conversation.objects.get().account == acme


def test_a_direct_message_is_not_a_customer_thread(
    slack: FakeSlackApi, deliver: Deliver, acme: Account
) -> None:
    body = payload("message")
    body["event"].update(channel="D0DIRECT1", channel_type="im")
    deliver(body)
    assert InboundEvent.objects.get().status == "ignored"
    assert not Channel.objects.filter(slack_channel_id="D0DIRECT1").exists()


def test_a_shared_file_keeps_its_description(
    slack: FakeSlackApi, deliver: Deliver, acme: Account, settings: Any
) -> None:
    body = payload("message")
    body["event"].update(
        subtype="file_share",
        text="Here is the failing export",
        files=[{"id": "F0FILE001", "name": "export.csv", "mimetype": "text/csv", "size": 2048}],
    )
    deliver(body)
    message = Message.objects.get()
    assert message.attachments == [
        {"filename": "export.csv", "content_type": "text/csv", "size": 2048}
    ]
    assert Conversation.objects.get().subject == "Here is the failing export"


def test_a_message_is_taken_in_without_its_author_when_slack_stays_unreachable(
    db: None, settings: Any
) -> None:
    """After a few failed profile look-ups the message is kept, mapped by its channel."""
    from rapport.accounts.tests.factories import make_account, make_channel
    from rapport.inbox.ingest import inbound_events_process
    from rapport.inbox.models import Conversation, InboundEvent, InboundEventStatus
    from rapport.inbox.services import inbound_event_store

    settings.SLACK_API_URL = "http://127.0.0.1:9/api/"  # nothing listens there
    account = make_account("Acme", domain="acme.example")
    channel = make_channel("ext-acme", accounts=[account])
    envelope = {
        "type": "event_callback",
        "event_id": "Ev0UNREACHABLE",
        "team_id": channel.slack_team_id,
        "event": {
            "type": "message",
            "channel": channel.slack_channel_id,
            "channel_type": "channel",
            "user": "U0CUSTOMER",
            "text": "Our exports are failing",
            "ts": "1763800000.000100",
        },
    }
    event, _ = inbound_event_store(source="slack", external_id="Ev0UNREACHABLE", payload=envelope)
    for _ in range(4):
        inbound_events_process([event.pk])
    event = InboundEvent.objects.get(pk=event.pk)
    assert event.status == InboundEventStatus.DONE
    conversation = Conversation.objects.get(source="slack")
    assert conversation.account == account
    assert conversation.messages.get().author_name == "U0CUSTOMER"

"""Team replies to Slack conversations: posted in the thread, as the member, by the outbox.

The customer's message comes in through the Events API (the signed `deliver` fixture);
the reply goes out through the real outbox to the fake Web API of `conftest.py`.
"""

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.inbox.models import Conversation, DeliveryStatus, Message, MessageDirection
from rapport.inbox.services import conversation_reply
from rapport.integrations.slack.models import SlackUser
from rapport.integrations.slack.tests.conftest import (
    CHANNEL,
    MEMBER_SLACK,
    TEAM,
    FakeSlackApi,
    Response,
    Workspace,
    payload,
)
from rapport.outbox.models import OutboxItem, OutboxStatus
from rapport.outbox.services import outbox_deliver_due
from rapport.users.models import User

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
ROOT_TS = "1767225600.000100"
AVATAR = "https://avatars.example/max-72.png"


@pytest.fixture
def question(workspace: Workspace, customer_message: Callable[..., Message]) -> Conversation:
    """Jane's question in #acme-support: the root of a Slack thread."""
    message = customer_message("Our weekly export fails since Monday. Can you look?")
    assert message.conversation.thread_key == f"{TEAM}:{CHANNEL}:{ROOT_TS}"
    return message.conversation


@pytest.fixture
def max_profile(slack: FakeSlackApi) -> dict[str, Any]:
    """Max's Slack profile, with the 72 px avatar Slack gives every user."""
    answer = slack.add_user(MEMBER_SLACK, email="max@rapport.example", real_name="Max Member")
    answer["user"]["profile"]["image_72"] = AVATAR
    return answer


def run_outbox(capture: Capture) -> dict[str, int]:
    with capture(execute=True):
        return outbox_deliver_due()


def reply(author: User, conversation: Conversation, text: str, capture: Capture) -> Message:
    """Reply as *author*, run the outbox, and return the reply as it stands."""
    message = conversation_reply(actor=author, conversation=conversation, text=text)
    run_outbox(capture)
    message.refresh_from_db()
    return message


def page_of(conversation: Conversation, member: User) -> str:
    client = Client()
    client.force_login(member)
    response = client.get(reverse("inbox:conversation", args=[conversation.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_reply_is_posted_in_the_thread_under_the_members_name_and_avatar(
    slack: FakeSlackApi,
    workspace: Workspace,
    question: Conversation,
    max_profile: dict[str, Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    written = conversation_reply(
        actor=workspace.member, conversation=question, text="On it: <b>export</b> & retry"
    )
    assert written.delivery_status == DeliveryStatus.QUEUED
    assert slack.asked("chat.postMessage") == []  # nothing leaves before the commit

    before = timezone.now()
    assert run_outbox(django_capture_on_commit_callbacks) == {"sent": 1, "retry": 0, "failed": 0}

    [posted] = slack.asked("chat.postMessage")
    assert posted["channel"] == CHANNEL
    assert posted["thread_ts"] == ROOT_TS
    # Slack reads mrkdwn: the member's text is escaped, not interpreted.
    assert posted["text"] == "On it: &lt;b&gt;export&lt;/b&gt; &amp; retry"
    assert posted["username"] == "Max Member"
    assert posted["icon_url"] == AVATAR
    [in_thread] = slack.in_channel(CHANNEL)
    assert in_thread["thread_ts"] == ROOT_TS

    written.refresh_from_db()
    assert written.delivery_status == DeliveryStatus.SENT
    assert written.delivery_error == ""
    assert written.sent_at >= before
    assert written.external_id == f"{TEAM}:{CHANNEL}:{in_thread['ts']}"
    # The avatar is cached with the member's Slack profile.
    cached = SlackUser.objects.get(team_id=TEAM, user_id=MEMBER_SLACK)
    assert cached.avatar_url == AVATAR

    # A second reply reuses the cached profile: no second users.info for Max.
    reply(workspace.member, question, "Fixed now.", django_capture_on_commit_callbacks)
    assert [p["user"] for p in slack.asked("users.info")].count(MEMBER_SLACK) == 1
    assert [p["icon_url"] for p in slack.asked("chat.postMessage")] == [AVATAR, AVATAR]


def test_a_member_without_slack_is_posted_under_their_name_without_an_avatar(
    slack: FakeSlackApi,
    question: Conversation,
    make_user: Callable[..., User],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    kim = make_user("kim@rapport.example", name="Kim Support")
    sent = reply(kim, question, "Looking into it.", django_capture_on_commit_callbacks)

    [posted] = slack.asked("chat.postMessage")
    assert posted["username"] == "Kim Support"
    assert "icon_url" not in posted
    assert sent.delivery_status == DeliveryStatus.SENT


def test_a_member_without_a_name_is_never_posted_under_their_email(
    slack: FakeSlackApi,
    question: Conversation,
    make_user: Callable[..., User],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    nameless = make_user("nameless@rapport.example")
    reply(nameless, question, "Looking into it.", django_capture_on_commit_callbacks)
    [posted] = slack.asked("chat.postMessage")
    assert "nameless@rapport.example" not in str(posted)


def test_a_reply_slack_refuses_fails_with_the_reason_shown_on_the_conversation_page(
    slack: FakeSlackApi,
    workspace: Workspace,
    question: Conversation,
    max_profile: dict[str, Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    slack.errors["chat.postMessage"] = "channel_not_found"
    failed = reply(workspace.member, question, "On it.", django_capture_on_commit_callbacks)

    assert failed.delivery_status == DeliveryStatus.FAILED
    assert "channel_not_found" in failed.delivery_error
    assert failed.external_id.startswith("reply-")  # never posted, so no Slack id
    assert OutboxItem.objects.get().status == OutboxStatus.FAILED

    page = page_of(question, workspace.member)
    assert "Not sent" in page
    assert "Not sent through Slack: Slack refused chat.postMessage: channel_not_found." in page
    assert reverse("inbox:message_retry", args=[failed.pk]) in page


def test_a_rate_limited_reply_stays_queued_until_retry_after_has_passed(
    slack: FakeSlackApi,
    workspace: Workspace,
    question: Conversation,
    max_profile: dict[str, Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    slack.rate_limited.add("chat.postMessage")
    slack.retry_after = "42"
    before = timezone.now()
    waiting = reply(workspace.member, question, "On it.", django_capture_on_commit_callbacks)

    assert waiting.delivery_status == DeliveryStatus.QUEUED
    assert waiting.delivery_error.startswith("Not sent yet, trying again: ")
    assert "42" in waiting.delivery_error
    item = OutboxItem.objects.get()
    assert (item.status, item.attempts) == (OutboxStatus.PENDING, 1)
    assert 42 <= (item.available_at - before).total_seconds() < 50
    page = page_of(question, workspace.member)
    assert "Queued" in page and "Slack rate-limited chat.postMessage" in page
    assert reverse("inbox:message_retry", args=[waiting.pk]) not in page

    # Slack answers again, but the outbox waits for Retry-After...
    slack.rate_limited.clear()
    assert outbox_deliver_due() == {"sent": 0, "retry": 0, "failed": 0}
    # ...and posts once it has passed.
    OutboxItem.objects.filter(pk=item.pk).update(
        available_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert run_outbox(django_capture_on_commit_callbacks)["sent"] == 1
    waiting.refresh_from_db()
    assert (waiting.delivery_status, waiting.delivery_error) == (DeliveryStatus.SENT, "")


@pytest.mark.parametrize(
    "echo",
    [
        # Posted with a username: Slack sends it as a bot_message.
        {"subtype": "bot_message", "username": "Max Member", "bot_id": "B0RAPPORT1"},
        # As the app's bot user: no subtype, but a bot_id.
        {"user": "U0BOTRAPP", "bot_id": "B0RAPPORT1", "app_id": "A0RAPPORT1"},
    ],
    ids=["bot_message", "bot user"],
)
def test_slacks_echo_of_the_posted_reply_does_not_add_a_second_message(
    slack: FakeSlackApi,
    workspace: Workspace,
    question: Conversation,
    max_profile: dict[str, Any],
    deliver: Callable[..., Response],
    django_capture_on_commit_callbacks: Capture,
    echo: dict[str, str],
) -> None:
    sent = reply(workspace.member, question, "On it.", django_capture_on_commit_callbacks)
    [posted] = slack.in_channel(CHANNEL)

    body = payload("bot_message")
    event = body["event"]
    for key in ("subtype", "username", "icons", "bot_id"):
        event.pop(key, None)
    event.update(
        echo, text=posted["text"], ts=posted["ts"], event_ts=posted["ts"], thread_ts=ROOT_TS
    )
    body["event_id"] = "Ev0A1ECHO001"
    assert deliver(body).status_code == 200

    question.refresh_from_db()
    assert question.message_count == 2
    outbound = Message.objects.filter(direction=MessageDirection.OUTBOUND)
    assert list(outbound.values_list("pk", flat=True)) == [sent.pk]
    assert Conversation.objects.count() == 1

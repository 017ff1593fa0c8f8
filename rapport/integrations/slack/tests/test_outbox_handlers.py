"""The outbox's Slack calls: triage cards, emoji, DMs, thread updates and rate limits."""

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from rapport.inbox.models import Message
from rapport.integrations.slack.tests.conftest import (
    CHANNEL,
    MEMBER_SLACK,
    TRIAGE,
    FakeSlackApi,
    Workspace,
    action_ids,
    all_text,
)
from rapport.outbox.models import OutboxItem, OutboxStatus
from rapport.outbox.services import outbox_deliver_due
from rapport.requests.models import Request, RequestOrigin
from rapport.requests.services import (
    request_assign,
    request_close,
    request_create,
    request_settings_update,
    request_take,
)

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
ROOT_TS = "1767225600.000100"


@pytest.fixture
def question(workspace: Workspace, customer_message: Callable[..., Message]) -> Message:
    return customer_message("Our weekly export fails since Monday. Can you look?")


def open_request(message: Message, capture: Capture) -> Request:
    with capture(execute=True):
        request = request_create(message=message, origin=RequestOrigin.DETECTED)
    request.refresh_from_db()
    return request


def test_a_new_request_is_posted_to_the_triage_channel_with_its_actions(
    slack: FakeSlackApi, question: Message, django_capture_on_commit_callbacks: Capture
) -> None:
    request = open_request(question, django_capture_on_commit_callbacks)
    [card] = slack.in_channel(TRIAGE)
    assert (request.notification_channel, request.notification_ts) == (TRIAGE, card["ts"])
    seen = all_text(card["blocks"])
    assert "Our weekly export fails since Monday" in seen
    assert "Acme Corp" in seen and "Jane Doe" in seen and "Slack" in seen
    assert "Open" in seen and "Unassigned" in seen
    assert f"/requests/{request.pk}/" in seen
    assert action_ids(card["blocks"]) == [
        "request_take",
        "request_assign",
        "request_hold",
        "request_close",
        "request_open",
    ]
    assert "Create ticket" not in seen
    assert card["text"].startswith(f"Request #{request.pk} from Jane Doe")
    assert OutboxItem.objects.get().status == OutboxStatus.SENT


def test_a_customers_channel_mention_does_not_ping_the_triage_channel(
    slack: FakeSlackApi,
    workspace: Workspace,
    customer_message: Callable[..., Message],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # As Slack sends it: markup for the mention and the link, entities for "&".
    message = customer_message(
        "<!channel> <https://status.acme.example|our status page> is red &amp; we are down"
    )
    open_request(message, django_capture_on_commit_callbacks)
    [card] = slack.in_channel(TRIAGE)
    seen = all_text(card["blocks"]) + card["text"]
    assert "<!channel>" not in seen
    assert "@channel our status page is red &amp; we are down" in seen


def test_the_create_ticket_button_shows_when_a_ticketing_address_is_set(
    slack: FakeSlackApi,
    workspace: Workspace,
    question: Message,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    request_settings_update(
        actor=workspace.admin, values={"ticket_address": "support@tickets.example"}
    )
    open_request(question, django_capture_on_commit_callbacks)
    [card] = slack.in_channel(TRIAGE)
    assert "request_ticket" in action_ids(card["blocks"])
    assert "Create ticket" in all_text(card["blocks"])


def test_closing_updates_the_card_marks_the_message_and_asks_for_a_rating(
    slack: FakeSlackApi,
    workspace: Workspace,
    question: Message,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    request = open_request(question, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        request_close(request=request, actor=workspace.member)
    # The same card, updated in place: closed, with only "Reopen" left to do.
    [card] = slack.in_channel(TRIAGE)
    assert slack.asked("chat.update")[-1]["ts"] == request.notification_ts
    assert "Closed" in all_text(card["blocks"])
    assert action_ids(card["blocks"]) == ["request_reopen", "request_open"]
    # ✅ on the customer's message.
    assert (CHANNEL, ROOT_TS, "white_check_mark") in slack.reactions
    # The survey, in the request's thread, with one button per score.
    [survey] = [m for m in slack.in_channel(CHANNEL) if m["thread_ts"] == ROOT_TS]
    assert action_ids(survey["blocks"]) == [f"csat_rate_{n}" for n in range(1, 6)]
    assert "How satisfied" in all_text(survey["blocks"])
    assert not OutboxItem.objects.exclude(status=OutboxStatus.SENT).exists()


def test_an_assignment_adds_eyes_and_dms_the_assignee_with_the_request(
    slack: FakeSlackApi,
    workspace: Workspace,
    question: Message,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    request = open_request(question, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        request_assign(request=request, assignee=workspace.member, actor=workspace.admin)
    assert (CHANNEL, ROOT_TS, "eyes") in slack.reactions
    [opened] = slack.asked("conversations.open")
    assert opened["users"] == MEMBER_SLACK
    [dm] = slack.in_channel("D0111MAX")
    assert dm["text"] == "Ada Admin assigned you a request from Jane Doe"
    seen = all_text(dm["blocks"])
    assert f"/requests/{request.pk}/" in seen and "Our weekly export" in seen
    assert "request_close" in action_ids(dm["blocks"])
    # The card shows the assignee as a Slack mention.
    [card] = slack.in_channel(TRIAGE)
    assert f"<@{MEMBER_SLACK}>" in all_text(card["blocks"])
    assert "request_take" not in action_ids(card["blocks"])


def test_taking_a_request_yourself_sends_no_dm(
    slack: FakeSlackApi,
    workspace: Workspace,
    question: Message,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    request = open_request(question, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        request_take(request=request, actor=workspace.member)
    assert slack.asked("conversations.open") == []
    assert (CHANNEL, ROOT_TS, "eyes") in slack.reactions


def test_a_rate_limited_call_waits_for_retry_after_then_goes_out(
    slack: FakeSlackApi, question: Message, django_capture_on_commit_callbacks: Capture
) -> None:
    slack.rate_limited.add("chat.postMessage")
    slack.retry_after = "42"
    before = timezone.now()
    request = open_request(question, django_capture_on_commit_callbacks)
    item = OutboxItem.objects.get()
    assert item.status == OutboxStatus.PENDING
    assert item.attempts == 1
    assert "ratelimited" in item.last_error and "42" in item.last_error
    wait = (item.available_at - before).total_seconds()
    assert 42 <= wait < 45
    assert slack.in_channel(TRIAGE) == []
    assert request.notification_ts == ""

    # Before Retry-After nothing is tried again...
    slack.rate_limited.clear()
    assert outbox_deliver_due() == {"sent": 0, "retry": 0, "failed": 0}
    # ...once it has passed, the card goes out.
    OutboxItem.objects.filter(pk=item.pk).update(
        available_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert outbox_deliver_due() == {"sent": 1, "retry": 0, "failed": 0}
    [card] = slack.in_channel(TRIAGE)
    request.refresh_from_db()
    assert request.notification_ts == card["ts"]


def test_a_slack_side_error_is_retried_with_backoff(
    slack: FakeSlackApi, question: Message, django_capture_on_commit_callbacks: Capture
) -> None:
    slack.errors["chat.postMessage"] = "internal_error"
    before = timezone.now()
    open_request(question, django_capture_on_commit_callbacks)
    item = OutboxItem.objects.get()
    assert item.status == OutboxStatus.PENDING
    assert "internal_error" in item.last_error
    assert (item.available_at - before).total_seconds() >= 30


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "invalid_auth"])
def test_a_call_slack_refuses_fails_for_good(
    slack: FakeSlackApi,
    question: Message,
    django_capture_on_commit_callbacks: Capture,
    error: str,
) -> None:
    slack.errors["chat.postMessage"] = error
    open_request(question, django_capture_on_commit_callbacks)
    item = OutboxItem.objects.get()
    assert item.status == OutboxStatus.FAILED
    assert item.attempts == 1
    assert error in item.last_error


def test_an_emoji_already_there_counts_as_added(
    slack: FakeSlackApi,
    workspace: Workspace,
    question: Message,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    slack.reactions.add((CHANNEL, ROOT_TS, "eyes"))  # a teammate reacted first
    request = open_request(question, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        request_take(request=request, actor=workspace.member)
    reaction = OutboxItem.objects.get(action="slack.reaction")
    assert reaction.status == OutboxStatus.SENT
    assert reaction.result == {"already_reacted": True}


def test_a_deleted_card_is_posted_again_on_the_next_change(
    slack: FakeSlackApi,
    workspace: Workspace,
    question: Message,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    request = open_request(question, django_capture_on_commit_callbacks)
    slack.messages.clear()  # someone deleted the card in Slack
    with django_capture_on_commit_callbacks(execute=True):
        request_take(request=request, actor=workspace.member)
    [card] = slack.in_channel(TRIAGE)
    request.refresh_from_db()
    assert request.notification_ts == card["ts"]
    assert f"<@{MEMBER_SLACK}>" in all_text(card["blocks"])


def test_status_updates_are_posted_in_the_request_thread_when_on(
    slack: FakeSlackApi,
    workspace: Workspace,
    question: Message,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    request_settings_update(
        actor=workspace.admin, values={"status_updates": True, "csat_enabled": False}
    )
    request = open_request(question, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        request_take(request=request, actor=workspace.member)
        request_close(request=request, actor=workspace.member)
    thread = [m["text"] for m in slack.in_channel(CHANNEL) if m["thread_ts"] == ROOT_TS]
    assert thread == [
        "Max Member is looking into this.",
        "This request is closed. Thanks for reaching out!",
    ]


def test_without_a_bot_token_slack_calls_fail_without_reaching_out(
    slack: FakeSlackApi,
    settings: Any,
    question: Message,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.SLACK_BOT_TOKEN = ""
    open_request(question, django_capture_on_commit_callbacks)
    item = OutboxItem.objects.get()
    assert item.status == OutboxStatus.FAILED
    assert "SLACK_BOT_TOKEN" in item.last_error
    assert slack.asked("chat.postMessage") == []


def test_the_first_responder_sees_the_requests_actions_in_its_thread(
    slack: FakeSlackApi,
    question: Message,
    workspace: Workspace,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    request = open_request(question, django_capture_on_commit_callbacks)
    member = workspace.member
    with django_capture_on_commit_callbacks(execute=True):
        request_assign(request=request, assignee=member, actor=member, via="first_responder")
    [shown] = slack.asked("chat.postEphemeral")
    assert shown["user"] == MEMBER_SLACK
    assert shown["channel"] == CHANNEL and shown["thread_ts"] == ROOT_TS
    assert "this request is yours now" in shown["text"]
    assert "request_close" in action_ids(shown["blocks"])

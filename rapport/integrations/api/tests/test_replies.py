"""Replies to API conversations: written through the API, read back, POSTed to the webhook.

The receiver is a real HTTP server on 127.0.0.1 in a thread that records each call and
answers what the test tells it to; the real outbox makes the calls.
"""

import datetime
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.inbox.models import Conversation, Message
from rapport.inbox.services import conversation_reply
from rapport.integrations.api.adapter import reply_event
from rapport.integrations.api.services import (
    outbound_webhook_get,
    outbound_webhook_secret_rotate,
    outbound_webhook_url_set,
)
from rapport.integrations.api.tests.kit import Call, Receiver, webhook_receiver
from rapport.outbox.models import OutboxItem, OutboxStatus
from rapport.outbox.services import outbox_deliver_due
from rapport.users.models import User

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
# The token, the conversation's existence, the page of messages.
MESSAGES_QUERIES = 3


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Serve the webhook receiver on a free local port for the length of a test."""
    with webhook_receiver() as fake:
        yield fake


@pytest.fixture
def conversation(admin_api: Client) -> Conversation:
    """A ticket Jo opened through `POST /api/v1/tickets`."""
    body = {"requester_email": "jo@acme.example", "subject": "Export", "body": "It fails."}
    response = admin_api.post("/api/v1/tickets", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return Conversation.objects.get(pk=response.json()["id"])


@pytest.fixture
def webhook(admin_user: User, receiver: Receiver) -> Receiver:
    """Replies to API conversations are POSTed to the receiver."""
    outbound_webhook_url_set(actor=admin_user, url=receiver.url)
    return receiver


def post_reply(api: Client, conversation_id: int, text: Any = "We are on it.") -> Any:
    return api.post(
        f"/api/v1/conversations/{conversation_id}/replies",
        {"text": text},
        content_type="application/json",
    )


def messages_of(api: Client, conversation_id: int) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/conversations/{conversation_id}/messages")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["items"])
    return list(body["items"])


def run_outbox(capture: Capture) -> dict[str, int]:
    with capture(execute=True):
        return outbox_deliver_due()


def backoff_passes() -> None:
    OutboxItem.objects.filter(status=OutboxStatus.PENDING).update(
        available_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def signature_valid(call: Call, secret: str) -> bool:
    timestamp = call.headers["X-Rapport-Timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + call.body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, call.headers["X-Rapport-Signature"])


# --- the API faces ----------------------------------------------------------------------------


def test_a_reply_answers_201_queued_and_reads_back_sent_once_the_outbox_ran(
    member_api: Client,
    member_user: User,
    conversation: Conversation,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    response = post_reply(member_api, conversation.pk, "  We are on it.  ")

    assert response.status_code == 201
    answer = response.json()
    reply = Message.objects.get(pk=answer["id"])
    assert answer == {
        "id": reply.pk,
        "conversation_id": conversation.pk,
        "status": "queued",
        "error": "",
    }
    customer, queued = messages_of(member_api, conversation.pk)
    assert (customer["direction"], customer["status"], customer["error"]) == ("inbound", None, "")
    assert queued["id"] == reply.pk
    assert (queued["direction"], queued["status"]) == ("outbound", "queued")
    assert queued["text"] == "We are on it."
    assert (queued["author_user_id"], queued["author_name"]) == (member_user.pk, "Max Member")

    # No webhook is set: the channel takes the reply as it is, readable through the API.
    assert run_outbox(django_capture_on_commit_callbacks) == {"sent": 1, "retry": 0, "failed": 0}

    _, sent = messages_of(member_api, conversation.pk)
    assert (sent["status"], sent["error"]) == ("sent", "")
    reply.refresh_from_db()
    shown = datetime.datetime.fromisoformat(sent["sent_at"])
    assert abs(shown - reply.sent_at) < datetime.timedelta(milliseconds=1)


def test_listing_messages_costs_the_same_few_queries_whatever_their_number(
    member_api: Client,
    member_user: User,
    conversation: Conversation,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    messages_of(member_api, conversation.pk)  # the token's first use is recorded once
    with django_assert_num_queries(MESSAGES_QUERIES):
        assert len(messages_of(member_api, conversation.pk)) == 1
    for n in range(5):
        post_reply(member_api, conversation.pk, f"Reply {n}")
    with django_assert_num_queries(MESSAGES_QUERIES):
        assert len(messages_of(member_api, conversation.pk)) == 6


def test_an_empty_reply_is_refused_and_nothing_is_stored(
    member_api: Client, conversation: Conversation
) -> None:
    empty = post_reply(member_api, conversation.pk, "")
    assert empty.status_code == 422
    assert "text" in empty.json()["error"]
    missing = member_api.post(
        f"/api/v1/conversations/{conversation.pk}/replies", {}, content_type="application/json"
    )
    assert missing.status_code == 422
    # Only spaces passes the schema; the service refuses it, naming the field.
    blank = post_reply(member_api, conversation.pk, "   \n ")
    assert blank.status_code == 400
    assert blank.json() == {"error": "Write a reply first.", "field": "text"}
    assert conversation.messages.count() == 1
    assert not OutboxItem.objects.exists()


def test_a_reply_to_an_unknown_conversation_answers_404(member_api: Client, db: None) -> None:
    response = post_reply(member_api, 999_999)
    assert response.status_code == 404
    assert "999999" in response.json()["error"]
    assert member_api.get("/api/v1/conversations/999999/messages").status_code == 404
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer not-a-token"}], ids=["no token", "bad token"]
)
def test_replying_and_reading_need_an_api_token(
    conversation: Conversation, headers: dict[str, str]
) -> None:
    anonymous = Client(headers=headers)
    response = post_reply(anonymous, conversation.pk)
    assert response.status_code == 401
    assert "error" in response.json()
    assert anonymous.get(f"/api/v1/conversations/{conversation.pk}/messages").status_code == 401
    assert conversation.messages.count() == 1


# --- the outbound webhook -----------------------------------------------------------------


def test_a_reply_is_posted_to_the_webhook_signed_with_the_secret(
    member_api: Client,
    conversation: Conversation,
    webhook: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    reply_id = post_reply(member_api, conversation.pk, "We are on it.").json()["id"]
    assert webhook.received() == []  # nothing leaves before the outbox runs

    assert run_outbox(django_capture_on_commit_callbacks) == {"sent": 1, "retry": 0, "failed": 0}

    [call] = webhook.received()
    assert call.path == "/hooks/rapport"
    assert call.headers["Content-Type"] == "application/json"
    event = json.loads(call.body)
    assert event == {
        "type": "conversation.reply",
        "conversation_id": conversation.pk,
        "message": {
            "id": reply_id,
            "conversation_id": conversation.pk,
            "direction": "outbound",
            "author_name": "Max Member",
            "text": "We are on it.",
            "sent_at": event["message"]["sent_at"],
        },
    }
    assert datetime.datetime.fromisoformat(event["message"]["sent_at"]).tzinfo is not None
    assert "member@example.test" not in call.body.decode()  # never a member's address
    assert signature_valid(call, outbound_webhook_get().secret)
    assert abs(int(call.headers["X-Rapport-Timestamp"]) - time.time()) <= 300

    _, sent = messages_of(member_api, conversation.pk)
    assert (sent["status"], sent["error"]) == ("sent", "")
    assert sent["sent_at"] == event["message"]["sent_at"]  # the same moment, written alike


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        (500, {}, 30),
        (503, {}, 30),
        (408, {}, 30),
        (429, {"Retry-After": "120"}, 120),
    ],
)
def test_a_webhook_that_cannot_take_the_reply_now_is_tried_again_later(
    member_api: Client,
    conversation: Conversation,
    webhook: Receiver,
    django_capture_on_commit_callbacks: Capture,
    status: int,
    headers: dict[str, str],
    wait: int,
) -> None:
    webhook.status, webhook.headers = status, headers
    post_reply(member_api, conversation.pk)
    before = timezone.now()

    assert run_outbox(django_capture_on_commit_callbacks) == {"sent": 0, "retry": 1, "failed": 0}

    _, queued = messages_of(member_api, conversation.pk)
    assert queued["status"] == "queued"
    assert queued["error"] == f"Not sent yet, trying again: The webhook answered HTTP {status}."
    item = OutboxItem.objects.get()
    assert item.status == OutboxStatus.PENDING
    assert wait <= (item.available_at - before).total_seconds() < wait + 10

    # Not due yet; once the wait has passed, the receiver takes it.
    assert outbox_deliver_due() == {"sent": 0, "retry": 0, "failed": 0}
    webhook.status, webhook.headers = 200, {}
    backoff_passes()
    assert run_outbox(django_capture_on_commit_callbacks)["sent"] == 1
    assert len(webhook.received()) == 2
    _, sent = messages_of(member_api, conversation.pk)
    assert (sent["status"], sent["error"]) == ("sent", "")


def test_a_webhook_that_cannot_be_reached_is_tried_again_later(
    member_api: Client,
    admin_user: User,
    conversation: Conversation,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with socket.socket() as probe:  # a free port: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outbound_webhook_url_set(actor=admin_user, url=f"http://127.0.0.1:{port}/hooks")
    post_reply(member_api, conversation.pk)
    assert run_outbox(django_capture_on_commit_callbacks) == {"sent": 0, "retry": 1, "failed": 0}
    _, queued = messages_of(member_api, conversation.pk)
    assert queued["status"] == "queued"
    assert queued["error"].startswith(
        "Not sent yet, trying again: The webhook could not be reached"
    )


@pytest.mark.parametrize("status", [410, 400, 404, 302])
def test_a_webhook_that_refuses_the_reply_fails_it_for_good(
    member_api: Client,
    conversation: Conversation,
    webhook: Receiver,
    django_capture_on_commit_callbacks: Capture,
    status: int,
) -> None:
    webhook.status = status
    if status == 302:
        webhook.headers = {"Location": webhook.url + "/elsewhere"}
    post_reply(member_api, conversation.pk)

    assert run_outbox(django_capture_on_commit_callbacks) == {"sent": 0, "retry": 0, "failed": 1}

    _, failed = messages_of(member_api, conversation.pk)
    assert failed["status"] == "failed"
    assert failed["error"] == f"The webhook refused the call: HTTP {status}."
    # A redirect is not followed: the signed call goes to the URL the admin set, only.
    assert [call.path for call in webhook.received()] == ["/hooks/rapport"]
    backoff_passes()
    assert outbox_deliver_due() == {"sent": 0, "retry": 0, "failed": 0}


def test_rotating_the_secret_signs_later_calls_with_the_new_one(
    member_api: Client,
    admin_user: User,
    conversation: Conversation,
    webhook: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    old = outbound_webhook_get().secret
    post_reply(member_api, conversation.pk, "First")
    run_outbox(django_capture_on_commit_callbacks)

    new = outbound_webhook_secret_rotate(actor=admin_user).secret
    assert new != old and new.startswith("whsec_")
    post_reply(member_api, conversation.pk, "Second")
    run_outbox(django_capture_on_commit_callbacks)

    first, second = webhook.received()
    assert signature_valid(first, old) and not signature_valid(first, new)
    assert signature_valid(second, new) and not signature_valid(second, old)


def test_the_reply_event_names_the_conversation_and_carries_the_message(
    member_user: User, conversation: Conversation
) -> None:
    reply = conversation_reply(actor=member_user, conversation=conversation, text="Hello")
    event = reply_event(reply, timezone.now())
    assert set(event) == {"type", "conversation_id", "message"}
    assert (event["type"], event["conversation_id"]) == ("conversation.reply", conversation.pk)
    assert set(event["message"]) == {
        "id",
        "conversation_id",
        "direction",
        "author_name",
        "text",
        "sent_at",
    }
    assert event["message"]["id"] == reply.pk
    assert event["message"]["direction"] == "outbound"
    assert event["message"]["text"] == "Hello"
    json.dumps(event)  # JSON as it is

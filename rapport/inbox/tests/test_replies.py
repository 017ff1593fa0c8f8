"""Team replies, whatever the channel: status, first response, the pages' reply box and Retry.

API conversations stand in for a channel with an outside call: their replies are POSTed
to a webhook receiver (a real HTTP server on 127.0.0.1) that answers what a test says.
Web chat stands for the channel that shows replies straight from the database.
"""

import datetime
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.inbox.models import Conversation, DeliveryStatus, Message, MessageDirection, Source
from rapport.inbox.services import conversation_reply
from rapport.integrations.api.services import outbound_webhook_url_set
from rapport.integrations.api.tests.kit import Receiver, webhook_receiver
from rapport.integrations.webchat.tests.factories import Widget, make_site
from rapport.outbox.models import OutboxItem, OutboxStatus
from rapport.outbox.services import outbox_deliver_due
from rapport.requests.models import Request
from rapport.users.models import User

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


@pytest.fixture
def receiver(admin_user: User) -> Iterator[Receiver]:
    """Serve a webhook receiver locally and have replies to API conversations POSTed to it."""
    with webhook_receiver(path="/hooks") as fake:
        outbound_webhook_url_set(actor=admin_user, url=fake.url)
        yield fake


@pytest.fixture
def ticket(admin_api: Client, django_capture_on_commit_callbacks: Capture) -> Conversation:
    """Jo's ticket through `POST /api/v1/tickets`, triaged: an open request."""
    body = {"requester_email": "jo@acme.example", "subject": "Export fails", "body": "Help!"}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/tickets", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return Conversation.objects.get(pk=response.json()["id"])


def run_outbox(capture: Capture) -> dict[str, int]:
    """Make the due outside calls, then what they queued on commit (triage), as a worker."""
    with capture(execute=True):
        return outbox_deliver_due()


def backoff_passes() -> None:
    OutboxItem.objects.filter(status=OutboxStatus.PENDING).update(
        available_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def reply(member: User, conversation: Conversation, text: str, capture: Capture) -> Message:
    """Write a reply, run the outbox once (and triage after it); return the reply as it is."""
    message = conversation_reply(actor=member, conversation=conversation, text=text)
    run_outbox(capture)
    message.refresh_from_db()
    return message


def request_seen(api: Client, conversation: Conversation) -> dict[str, Any]:
    """The conversation's request as `GET /api/v1/requests/{id}` shows it."""
    request = Request.objects.get(conversation=conversation)
    response = api.get(f"/api/v1/requests/{request.pk}")
    assert response.status_code == 200, response.content
    return dict(response.json())


def message_html(page: str, message: Message) -> str:
    """The part of a conversation or request page that shows *message*."""
    match = re.search(
        rf'<li class="message [^"]*" id="message-{message.pk}">(.*?)</li>', page, re.S
    )
    assert match is not None, f"message {message.pk} is not on the page"
    return match.group(1)


def chip(html: str) -> str | None:
    match = re.search(r'<span class="delivery delivery-\w+"[^>]*>([^<]+)</span>', html)
    return match.group(1) if match else None


# --- web chat: sent once stored --------------------------------------------------------------


def test_a_web_chat_reply_is_sent_at_once_and_the_widget_polls_it(
    member_user: User, member_client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    cache.clear()  # fresh rate-limit windows
    widget = Widget(make_site("Acme Shop"))
    token = widget.start().json()["token"]
    with django_capture_on_commit_callbacks(execute=True):
        assert widget.send(token, "Where is my order?").status_code == 202
    [mine] = widget.poll(token).json()["items"]
    conversation = Conversation.objects.get(source=Source.WEB_CHAT)

    response = member_client.post(
        reverse("inbox:conversation_reply", args=[conversation.pk]),
        {"text": "It left this morning.", "next": conversation.get_absolute_url()},
    )

    assert response.status_code == 302
    assert response["Location"] == conversation.get_absolute_url()
    sent = Message.objects.get(direction=MessageDirection.OUTBOUND)
    assert (sent.delivery_status, sent.delivery_error) == (DeliveryStatus.SENT, "")
    assert not OutboxItem.objects.exists()  # nothing to call: the widget reads it
    [item] = widget.poll(token, after=str(mine["id"])).json()["items"]
    assert (item["id"], item["direction"]) == (sent.pk, "outbound")
    assert (item["text"], item["author"]) == ("It left this morning.", "Max Member")
    page = member_client.get(conversation.get_absolute_url()).content.decode()
    assert "Sent the reply through Web chat." in page
    assert chip(message_html(page, sent)) == "Sent"


# --- first response --------------------------------------------------------------------------


def test_a_reply_counts_as_the_first_response_only_once_it_is_delivered(
    member_user: User,
    admin_api: Client,
    ticket: Conversation,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    assert request_seen(admin_api, ticket)["first_response_at"] is None

    receiver.status = 503
    waiting = reply(member_user, ticket, "Looking into it.", django_capture_on_commit_callbacks)
    written_at = waiting.sent_at
    assert waiting.delivery_status == DeliveryStatus.QUEUED
    assert request_seen(admin_api, ticket)["first_response_at"] is None

    receiver.status = 204
    backoff_passes()
    run_outbox(django_capture_on_commit_callbacks)

    waiting.refresh_from_db()
    assert waiting.delivery_status == DeliveryStatus.SENT
    assert waiting.sent_at > written_at  # timed when it left, not when it was written
    request = Request.objects.get(conversation=ticket)
    assert request.first_response_at == waiting.sent_at
    assert request.first_responder == member_user
    shown = datetime.datetime.fromisoformat(request_seen(admin_api, ticket)["first_response_at"])
    assert abs(shown - waiting.sent_at) < datetime.timedelta(milliseconds=1)


def test_a_failed_reply_is_no_response_and_a_later_delivered_one_is(
    member_user: User,
    make_user: Callable[..., User],
    admin_api: Client,
    ticket: Conversation,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    receiver.status = 410
    failed = reply(member_user, ticket, "First try.", django_capture_on_commit_callbacks)
    assert failed.delivery_status == DeliveryStatus.FAILED
    assert request_seen(admin_api, ticket)["first_response_at"] is None

    receiver.status = 204
    kim = make_user("kim@rapport.example", name="Kim Support")
    delivered = reply(kim, ticket, "Second try.", django_capture_on_commit_callbacks)

    assert delivered.delivery_status == DeliveryStatus.SENT
    request = Request.objects.get(conversation=ticket)
    assert (request.first_response_at, request.first_responder) == (delivered.sent_at, kim)
    assert len(receiver.received()) == 2


# --- the conversation page ------------------------------------------------------------------


def test_the_conversation_page_shows_each_replys_status_and_retry_only_for_a_failed_one(
    member_user: User,
    member_client: Client,
    ticket: Conversation,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    sent = reply(member_user, ticket, "Sent one.", django_capture_on_commit_callbacks)
    receiver.status = 410
    failed = reply(member_user, ticket, "Failed one.", django_capture_on_commit_callbacks)
    receiver.status = 500
    queued = reply(member_user, ticket, "Queued one.", django_capture_on_commit_callbacks)
    customer = Message.objects.get(conversation=ticket, direction=MessageDirection.INBOUND)

    page = member_client.get(ticket.get_absolute_url()).content.decode()

    assert chip(message_html(page, customer)) is None
    assert chip(message_html(page, sent)) == "Sent"
    assert chip(message_html(page, failed)) == "Not sent"
    assert chip(message_html(page, queued)) == "Queued"
    failed_html = message_html(page, failed)
    assert "Not sent through API: The webhook refused the call: HTTP 410." in failed_html
    assert reverse("inbox:message_retry", args=[failed.pk]) in failed_html
    assert "Not sent yet, trying again: The webhook answered HTTP 500." in message_html(
        page, queued
    )
    assert page.count("/retry/") == 1
    assert page.count(">Retry</button>") == 1


def test_a_failed_reply_retried_from_the_page_is_queued_then_sent(
    member_user: User,
    member_client: Client,
    ticket: Conversation,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    receiver.status = 410
    failed = reply(member_user, ticket, "Try me.", django_capture_on_commit_callbacks)
    receiver.status = 204

    response = member_client.post(
        reverse("inbox:message_retry", args=[failed.pk]), {"next": ticket.get_absolute_url()}
    )

    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    failed.refresh_from_db()
    assert (failed.delivery_status, failed.delivery_error) == (DeliveryStatus.QUEUED, "")
    page = member_client.get(ticket.get_absolute_url()).content.decode()
    assert "Queued the reply again." in page
    assert chip(message_html(page, failed)) == "Queued"

    assert run_outbox(django_capture_on_commit_callbacks)["sent"] == 1
    page = member_client.get(ticket.get_absolute_url()).content.decode()
    assert chip(message_html(page, failed)) == "Sent"
    assert "/retry/" not in page
    assert len(receiver.received()) == 2


def test_retrying_a_reply_that_did_not_fail_is_refused_on_the_page(
    member_user: User,
    member_client: Client,
    ticket: Conversation,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    sent = reply(member_user, ticket, "Already out.", django_capture_on_commit_callbacks)
    response = member_client.post(reverse("inbox:message_retry", args=[sent.pk]))
    assert response.status_code == 409
    assert "Only a reply that failed can be sent again." in response.content.decode()
    assert OutboxItem.objects.filter(status=OutboxStatus.PENDING).count() == 0
    assert len(receiver.received()) == 1


def test_an_empty_reply_from_the_page_shows_the_error_and_stores_nothing(
    member_client: Client, ticket: Conversation
) -> None:
    response = member_client.post(
        reverse("inbox:conversation_reply", args=[ticket.pk]), {"text": "  "}
    )
    assert response.status_code == 400
    assert "Write a reply first." in response.content.decode()
    assert not Message.objects.filter(direction=MessageDirection.OUTBOUND).exists()


@pytest.mark.parametrize(
    "target", ["https://evil.example/phish", "//evil.example/", "http://testserver.evil.example/"]
)
def test_a_next_on_another_host_is_ignored(
    member_client: Client, ticket: Conversation, target: str
) -> None:
    response = member_client.post(
        reverse("inbox:conversation_reply", args=[ticket.pk]), {"text": "Hi", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == ticket.get_absolute_url()


# --- the request page -------------------------------------------------------------------


def test_the_request_page_has_the_reply_box_and_replying_there_comes_back_to_it(
    member_user: User,
    member_client: Client,
    ticket: Conversation,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    request = Request.objects.get(conversation=ticket)
    url = reverse("requests:detail", args=[request.pk])
    page = member_client.get(url).content.decode()
    action = reverse("inbox:conversation_reply", args=[ticket.pk])
    assert f'action="{action}"' in page
    assert f'name="next" value="{url}"' in page

    response = member_client.post(action, {"text": "On it.", "next": url})

    assert response.status_code == 302 and response["Location"] == url
    written = Message.objects.get(direction=MessageDirection.OUTBOUND)
    page = member_client.get(url).content.decode()
    assert "Queued the reply; it goes out through API in a moment." in page
    assert chip(message_html(page, written)) == "Queued"

    run_outbox(django_capture_on_commit_callbacks)
    page = member_client.get(url).content.decode()
    assert chip(message_html(page, written)) == "Sent"


def test_a_failed_reply_can_be_retried_from_the_request_page(
    member_user: User,
    member_client: Client,
    ticket: Conversation,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    request = Request.objects.get(conversation=ticket)
    url = reverse("requests:detail", args=[request.pk])
    receiver.status = 410
    failed = reply(member_user, ticket, "Try me.", django_capture_on_commit_callbacks)

    html = message_html(member_client.get(url).content.decode(), failed)
    assert chip(html) == "Not sent"
    retry = reverse("inbox:message_retry", args=[failed.pk])
    assert f'action="{retry}"' in html and f'name="next" value="{url}"' in html

    response = member_client.post(retry, {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    failed.refresh_from_db()
    assert failed.delivery_status == DeliveryStatus.QUEUED

"""The Outbound delivery page: calls queued, retrying or failed, and "Retry now" (admins).

Replies to API tickets go to a local webhook receiver that answers what the test says;
the real outbox makes the calls.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from rapport.audit.models import AuditEntry
from rapport.inbox.models import Conversation, DeliveryStatus, Message
from rapport.inbox.services import DELIVER_ACTION, conversation_reply, reply_retry, ticket_store
from rapport.integrations.api.services import outbound_webhook_url_set
from rapport.integrations.api.tests.kit import Receiver, webhook_receiver
from rapport.outbox.models import OutboxItem, OutboxStatus
from rapport.outbox.services import MAX_ATTEMPTS, outbox_add, outbox_deliver_due
from rapport.users.models import User

pytestmark = pytest.mark.django_db

PAGE = reverse("outbox:deliveries")
Capture = Callable[..., Any]


@pytest.fixture
def receiver(admin_user: User) -> Iterator[Receiver]:
    with webhook_receiver() as fake:
        outbound_webhook_url_set(actor=admin_user, url=fake.url)
        yield fake


def _reply(author: User, capture: Capture, subject: str) -> Message:
    """Open an API ticket about *subject* and write a reply to it (queued, not sent)."""
    body = {"requester_email": "jo@acme.example", "subject": subject, "body": "It fails."}
    with capture(execute=True):
        ticket_store(body=body, idempotency_key=f"ticket-{subject}")
    conversation = Conversation.objects.get(subject=subject)
    return conversation_reply(actor=author, conversation=conversation, text="On it.")


def _item(message: Message) -> OutboxItem:
    return OutboxItem.objects.get(action=DELIVER_ACTION, payload__message_id=message.pk)


def _row(page: str, item: OutboxItem) -> str:
    start = page.index(f'id="call-{item.pk}"')
    return page[start : page.index("</tr>", start)]


@pytest.fixture
def three_states(
    receiver: Receiver, admin_user: User, django_capture_on_commit_callbacks: Capture
) -> dict[str, OutboxItem]:
    """One reply retrying (the webhook answered 503), one failed (404), one queued."""
    receiver.status = 503
    retrying = _reply(admin_user, django_capture_on_commit_callbacks, "Retrying export")
    outbox_deliver_due()
    receiver.status = 404
    failed = _reply(admin_user, django_capture_on_commit_callbacks, "Failed invoice")
    outbox_deliver_due()
    queued = _reply(admin_user, django_capture_on_commit_callbacks, "Queued login")
    return {"retrying": _item(retrying), "failed": _item(failed), "queued": _item(queued)}


def test_the_page_shows_each_call_not_sent_with_its_state_and_error(
    three_states: dict[str, OutboxItem], admin_client: Client
) -> None:
    response = admin_client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()

    retrying = _row(page, three_states["retrying"])
    assert 'data-state="retrying"' in retrying
    assert "The webhook answered HTTP 503." in retrying
    assert "Retry now" in retrying
    conversation = Conversation.objects.get(subject="Retrying export")
    assert f'href="{conversation.get_absolute_url()}"' in retrying
    assert "API reply in “Retrying export”" in retrying

    failed = _row(page, three_states["failed"])
    assert 'data-state="failed"' in failed
    assert "The webhook refused the call: HTTP 404." in failed
    assert "Retry now" in failed and "not retried" in failed

    queued = _row(page, three_states["queued"])
    assert 'data-state="queued"' in queued
    assert "Retry now" not in queued


def test_sent_calls_are_not_listed(
    receiver: Receiver,
    admin_client: Client,
    admin_user: User,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    message = _reply(admin_user, django_capture_on_commit_callbacks, "Sent fine")
    outbox_deliver_due()
    assert _item(message).status == OutboxStatus.SENT
    page = admin_client.get(PAGE).content.decode()
    assert f'id="call-{_item(message).pk}"' not in page
    assert "Every outside call has gone out." in page


@pytest.mark.parametrize("state", ["queued", "retrying", "failed"])
def test_the_state_filter_shows_only_that_state(
    three_states: dict[str, OutboxItem], admin_client: Client, state: str
) -> None:
    page = admin_client.get(PAGE, {"state": state}).content.decode()
    for name, item in three_states.items():
        assert (f'id="call-{item.pk}"' in page) == (name == state), name


def test_the_action_filter_narrows_to_that_action(
    three_states: dict[str, OutboxItem], admin_client: Client
) -> None:
    assert 'id="call-' in admin_client.get(PAGE, {"action": DELIVER_ACTION}).content.decode()
    page = admin_client.get(PAGE, {"action": "slack.reaction"}).content.decode()
    assert 'id="call-' not in page
    assert "No call matches these filters." in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"state": "lost"}, "state must be one of queued, retrying, failed, not 'lost'."),
        ({"action": "fax.send"}, "action must be a registered action, not 'fax.send'."),
        ({"page": "0"}, "page must be a whole number from 1"),
    ],
)
def test_a_bad_filter_is_a_400_with_the_reason(
    admin_client: Client, query: dict[str, str], message: str
) -> None:
    response = admin_client.get(PAGE, query)
    assert response.status_code == 400
    assert escape(message) in response.content.decode()


def test_the_page_costs_the_same_few_queries_whatever_the_page_size(
    three_states: dict[str, OutboxItem],
    admin_client: Client,
    admin_user: User,
    django_capture_on_commit_callbacks: Capture,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    # The session, the user, the count, the page, the replies' conversations.
    with django_assert_num_queries(5):
        assert admin_client.get(PAGE).status_code == 200
    for n in range(6):
        _reply(admin_user, django_capture_on_commit_callbacks, f"More {n}")
    with django_assert_num_queries(5):
        assert admin_client.get(PAGE).status_code == 200


def test_pages_of_fifty(admin_client: Client) -> None:
    for n in range(55):
        outbox_add(DELIVER_ACTION, {"message_id": 100_000 + n})
    first = admin_client.get(PAGE).content.decode()
    assert "<strong>1–50</strong> of 55 calls not sent" in first
    assert 'rel="next"' in first
    second = admin_client.get(PAGE, {"page": "2"}).content.decode()
    assert "<strong>51–55</strong> of 55 calls not sent" in second
    assert "message_id: 100000" in second  # the oldest, last; no reply to link to


def test_a_member_cannot_see_the_page(member_client: Client) -> None:
    assert member_client.get(PAGE).status_code == 403


# --- Retry now -------------------------------------------------------------------------------


def test_retry_now_queues_a_failed_reply_again_and_the_outbox_sends_it(
    three_states: dict[str, OutboxItem],
    receiver: Receiver,
    admin_client: Client,
    admin_user: User,
) -> None:
    item = three_states["failed"]
    message = Message.objects.get(pk=item.payload["message_id"])
    assert message.delivery_status == DeliveryStatus.FAILED
    before = timezone.now()

    response = admin_client.post(
        reverse("outbox:retry", args=[item.pk]), {"next": f"{PAGE}?state=failed"}
    )

    assert response.status_code == 302 and response["Location"] == f"{PAGE}?state=failed"
    item.refresh_from_db()
    assert (item.status, item.attempts) == (OutboxStatus.PENDING, 0)
    assert item.available_at >= before
    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_error) == (DeliveryStatus.QUEUED, "")
    entry = AuditEntry.objects.get(action="outbox.retry")
    assert entry.actor == admin_user and entry.object_id == str(item.pk)
    assert entry.changes["status"] == {"before": "failed", "after": "pending"}
    assert entry.changes["attempts"] == {"before": 1, "after": 0}

    receiver.status = 204
    outbox_deliver_due()
    item.refresh_from_db()
    message.refresh_from_db()
    assert item.status == OutboxStatus.SENT
    assert message.delivery_status == DeliveryStatus.SENT


def test_retry_now_makes_a_retrying_call_due_and_keeps_its_count(
    three_states: dict[str, OutboxItem], admin_client: Client
) -> None:
    item = three_states["retrying"]
    assert item.available_at > timezone.now()  # waiting out its backoff
    admin_client.post(reverse("outbox:retry", args=[item.pk]))
    item.refresh_from_db()
    assert item.status == OutboxStatus.PENDING and item.attempts == 1
    assert item.available_at <= timezone.now()
    assert item.attempts < MAX_ATTEMPTS


def test_retry_now_refuses_a_call_not_tried_yet(
    three_states: dict[str, OutboxItem], admin_client: Client
) -> None:
    item = three_states["queued"]
    before = (item.status, item.available_at, item.attempts)
    response = admin_client.post(reverse("outbox:retry", args=[item.pk]))
    assert response.status_code == 409
    assert "has not been tried yet" in response.content.decode()
    item.refresh_from_db()
    assert (item.status, item.available_at, item.attempts) == before
    assert not AuditEntry.objects.filter(action="outbox.retry").exists()


def test_retry_now_of_an_unknown_call_is_a_404(admin_client: Client) -> None:
    assert admin_client.post(reverse("outbox:retry", args=[999_999])).status_code == 404


def test_a_member_cannot_retry_and_nothing_changes(
    three_states: dict[str, OutboxItem], member_client: Client
) -> None:
    item = three_states["failed"]
    assert member_client.post(reverse("outbox:retry", args=[item.pk])).status_code == 403
    item.refresh_from_db()
    assert item.status == OutboxStatus.FAILED
    assert not AuditEntry.objects.filter(action="outbox.retry").exists()


def test_a_reply_retried_from_its_conversation_no_longer_shows_as_failed(
    three_states: dict[str, OutboxItem], admin_client: Client, member_user: User
) -> None:
    item = three_states["failed"]
    message = Message.objects.get(pk=item.payload["message_id"])

    reply_retry(actor=member_user, message=message)

    [again] = OutboxItem.objects.filter(action=DELIVER_ACTION, payload__message_id=message.pk)
    assert again.pk == item.pk
    assert (again.status, again.attempts) == (OutboxStatus.PENDING, 0)
    page = admin_client.get(PAGE, {"state": "failed"}).content.decode()
    assert f'id="call-{item.pk}"' not in page

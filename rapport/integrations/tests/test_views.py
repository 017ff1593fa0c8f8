"""The Integrations page: every registered integration with its state, for admins only."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.audit.models import AuditEntry
from rapport.core.settings_menu import settings_pages_for
from rapport.inbox.models import Conversation, InboundEvent
from rapport.inbox.services import conversation_reply, ticket_store
from rapport.integrations import registry
from rapport.integrations.api.services import outbound_webhook_url_set
from rapport.integrations.api.tests.kit import Receiver, webhook_receiver
from rapport.integrations.models import IntegrationHealth
from rapport.integrations.status import (
    Activity,
    ConnectionTest,
    IntegrationStatus,
    integration_status_build,
)
from rapport.outbox.services import outbox_deliver_due
from rapport.users.models import User

pytestmark = pytest.mark.django_db

PAGE = reverse("integrations:list")


def _card(page: str, key: str) -> str:
    start = page.index(f'id="integration-{key}"')
    return page[start : page.index("</section>", start)]


def _tickets(n: int, *, start: int = 0) -> None:
    """Store *n* API tickets that no worker has processed yet."""
    for i in range(start, start + n):
        body = {"requester_email": f"jo{i}@acme.example", "subject": f"Ticket {i}", "body": "?"}
        ticket_store(body=body, idempotency_key=f"ticket-{i}")


@pytest.fixture
def receiver(admin_user: User) -> Iterator[Receiver]:
    with webhook_receiver() as fake:
        outbound_webhook_url_set(actor=admin_user, url=fake.url)
        yield fake


def _failed_replies(n: int, author: User, capture: Callable[..., Any]) -> None:
    """Write *n* replies to API tickets whose webhook answers 500: each is retrying."""
    for i in range(n):
        body = {"requester_email": f"ana{i}@acme.example", "subject": f"Reply {i}", "body": "?"}
        with capture(execute=True):
            ticket_store(body=body, idempotency_key=f"reply-ticket-{i}")
        conversation = Conversation.objects.get(subject=f"Reply {i}")
        conversation_reply(actor=author, conversation=conversation, text="On it.")
    outbox_deliver_due()


def test_an_admin_sees_every_integration_in_order(admin_client: Client) -> None:
    response = admin_client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    positions = [page.index(f'id="integration-{key}"') for key in ("slack", "email", "webchat")]
    assert positions == sorted(positions)
    assert 'id="integration-api"' in page
    assert "Test connection" in _card(page, "slack")
    assert "Test connection" not in _card(page, "webchat")  # nothing outside to call
    assert 'data-state="not_configured"' in _card(page, "webchat")
    assert "No active site" in _card(page, "webchat")


def test_a_member_gets_403_and_a_visitor_the_login_page(member_client: Client) -> None:
    assert member_client.get(PAGE).status_code == 403
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_page_is_in_the_settings_menu_under_integrations(admin_client: Client) -> None:
    pages = {page.key: page for page in settings_pages_for(is_admin=True)}
    assert pages["integrations"].section == "Integrations"
    assert pages["integrations"].url == PAGE
    assert pages["deliveries"].section == "Integrations"
    assert not {"integrations", "deliveries"} & {
        page.key for page in settings_pages_for(is_admin=False)
    }
    assert f'href="{PAGE}"' in admin_client.get(reverse("settings")).content.decode()


def test_events_not_processed_yet_are_counted_as_waiting(admin_client: Client) -> None:
    _tickets(3)  # stored; the worker has not run
    card = _card(admin_client.get(PAGE).content.decode(), "api")
    assert "<strong>3</strong> not processed yet" in card
    assert "failing" not in card.split("Events waiting", 1)[1].split("</dd>", 1)[0]


def test_replies_the_webhook_refuses_show_as_retrying_calls_and_the_api_as_failing(
    receiver: Receiver,
    admin_client: Client,
    admin_user: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    receiver.status = 500
    _failed_replies(2, admin_user, django_capture_on_commit_callbacks)

    card = _card(admin_client.get(PAGE).content.decode(), "api")
    assert 'data-state="failing"' in card
    assert "The webhook answered HTTP 500." in card
    assert "0 queued · 2 retrying · 0 failed" in card
    assert f'href="{reverse("outbox:deliveries")}?action=message.deliver"' in card


def test_the_page_costs_the_same_few_queries_however_much_waits(
    receiver: Receiver,
    admin_client: Client,
    admin_user: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    receiver.status = 500
    _tickets(2)
    _failed_replies(1, admin_user, django_capture_on_commit_callbacks)
    # The session, the user; events waiting, calls by action, replies by channel, health
    # records; the last processed event of each of the four sources; the web chat sites,
    # the webhook.
    with django_assert_num_queries(12):
        assert admin_client.get(PAGE).status_code == 200
    _tickets(20, start=100)
    _failed_replies(5, admin_user, django_capture_on_commit_callbacks)
    with django_assert_num_queries(12):
        assert admin_client.get(PAGE).status_code == 200


def test_an_integration_without_a_test_refuses_one_and_records_nothing(
    admin_client: Client,
) -> None:
    response = admin_client.post(reverse("integrations:test", args=["webchat"]))
    assert response.status_code == 400
    assert "Web chat has no connection test." in response.content.decode()
    assert not IntegrationHealth.objects.exists()
    assert not AuditEntry.objects.filter(action="integration.test").exists()


def test_testing_an_unknown_integration_is_a_404(admin_client: Client) -> None:
    assert admin_client.post(reverse("integrations:test", args=["fax"])).status_code == 404
    assert not IntegrationHealth.objects.exists()


def test_the_test_only_answers_post(admin_client: Client) -> None:
    assert admin_client.get(reverse("integrations:test", args=["slack"])).status_code == 405


# --- a later connector joins by registering a status provider --------------------------------


def _crm_status(activity: Activity) -> IntegrationStatus:
    return integration_status_build(
        activity, key="crm", title="CRM", configured=True, setup=["Synced hourly"], testable=True
    )


def _crm_test() -> ConnectionTest:
    return ConnectionTest(False, "The CRM answered 401: the token expired.")


@pytest.fixture
def crm() -> Iterator[None]:
    registry.integration_status_register(
        "crm", title="CRM", status=_crm_status, test=_crm_test, order=50
    )
    yield
    registry._PROVIDERS.pop("crm")


def test_a_registered_connector_shows_on_the_page_with_its_test(
    crm: None, admin_client: Client
) -> None:
    card = _card(admin_client.get(PAGE).content.decode(), "crm")
    assert "Synced hourly" in card and 'data-state="unchecked"' in card

    admin_client.post(reverse("integrations:test", args=["crm"]))

    card = _card(admin_client.get(PAGE).content.decode(), "crm")
    assert 'data-state="failing"' in card
    assert "The CRM answered 401: the token expired." in card
    assert InboundEvent.objects.count() == 0

"""Email on the Integrations page: the outgoing relay's connection test, and its state.

The relay is aiosmtpd on a free local port that records the NOOPs and emails it gets.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from django.core.mail import EmailMessage
from django.test import Client
from django.urls import reverse

from rapport.audit.models import AuditEntry
from rapport.inbox.models import Conversation
from rapport.inbox.services import conversation_reply
from rapport.integrations.email.sending import email_message_send
from rapport.integrations.email.tests.test_replies import customer_email, free_port, receive
from rapport.integrations.models import IntegrationHealth
from rapport.outbox.services import outbox_deliver_due
from rapport.users.models import User

pytestmark = pytest.mark.django_db

PAGE = reverse("integrations:list")
TEST = reverse("integrations:test", args=["email"])


class Relay:
    """A relay that counts NOOPs and keeps every email it takes."""

    def __init__(self) -> None:
        self.noops = 0
        self.taken: list[bytes] = []

    async def handle_NOOP(
        self, server: SMTP, session: Session, envelope: Envelope, arg: str
    ) -> str:
        self.noops += 1
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.taken.append(bytes(envelope.original_content or b""))
        return "250 Message accepted for delivery"


def _refuse_every_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    assert isinstance(data, LoginPassword)
    return AuthResult(success=False, handled=False)


def _point_mailer_at(settings: Any, port: int, **options: Any) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, **options},
        }
    }


@pytest.fixture
def relay(settings: Any) -> Iterator[Relay]:
    handler = Relay()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=5)
    controller.start()
    _point_mailer_at(settings, port, timeout=30)
    try:
        yield handler
    finally:
        controller.stop()


def _email_card(page: str) -> str:
    start = page.index('id="integration-email"')
    return page[start : page.index("</section>", start)]


def test_the_test_says_noop_to_the_relay_and_sends_no_email(
    relay: Relay, admin_client: Client, admin_user: User
) -> None:
    assert admin_client.post(TEST).status_code == 302

    assert relay.noops == 1
    assert relay.taken == []
    health = IntegrationHealth.objects.get(key="email")
    assert health.test_ok is True and health.tested_by == admin_user
    assert health.test_detail.startswith("The relay 127.0.0.1:")
    assert AuditEntry.objects.get(action="integration.test").actor == admin_user
    card = _email_card(admin_client.get(PAGE).content.decode())
    assert 'data-state="connected"' in card
    assert "Outgoing relay 127.0.0.1:" in card


def test_a_relay_that_refuses_the_login_fails_the_test(settings: Any, admin_client: Client) -> None:
    port = free_port()
    controller = Controller(
        Relay(),
        hostname="127.0.0.1",
        port=port,
        ready_timeout=5,
        authenticator=_refuse_every_login,
        auth_require_tls=False,
    )
    controller.start()
    try:
        _point_mailer_at(settings, port, username="rapport", password="wrong")  # noqa: S106
        admin_client.post(TEST)
    finally:
        controller.stop()

    health = IntegrationHealth.objects.get(key="email")
    assert health.test_ok is False
    assert "refused the login: 535" in health.test_detail
    card = _email_card(admin_client.get(PAGE).content.decode())
    assert 'data-state="failing"' in card
    assert "refused the login" in card


def test_a_relay_nobody_answers_fails_the_test(settings: Any, admin_client: Client) -> None:
    _point_mailer_at(settings, free_port())
    admin_client.post(TEST)
    health = IntegrationHealth.objects.get(key="email")
    assert health.test_ok is False
    assert "could not be reached" in health.test_detail


def test_a_reply_the_relay_cannot_take_makes_email_failing(
    settings: Any, admin_client: Client, admin_user: User
) -> None:
    settings.SUPPORT_EMAIL = "support@rapport.example"
    conversation = Conversation.objects.get(
        pk=receive(customer_email("q1@mail.acme.example", "The export fails."))
    )
    _point_mailer_at(settings, free_port())  # nobody listens
    conversation_reply(actor=admin_user, conversation=conversation, text="Fixed.")
    assert outbox_deliver_due()["retry"] == 1

    card = _email_card(admin_client.get(PAGE).content.decode())
    assert 'data-state="failing"' in card
    assert "The mail server could not take the email now" in card
    assert "0 queued · 1 retrying · 0 failed" in card


def test_without_a_relay_email_is_not_configured(settings: Any, admin_client: Client) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    # Mail printed to the console tells nothing about a connection.
    email_message_send(EmailMessage("Hi", "Body", to=["jo@acme.example"]))
    assert not IntegrationHealth.objects.exists()

    card = _email_card(admin_client.get(PAGE).content.decode())
    assert 'data-state="not_configured"' in card
    assert "EMAIL_HOST is not set" in card

    admin_client.post(TEST)
    health = IntegrationHealth.objects.get(key="email")
    assert health.test_ok is False and "EMAIL_HOST is not set" in health.test_detail

"""Team replies to email conversations: out through a real SMTP server, answers thread back.

The relay is aiosmtpd on a free local port (a sink that records what it takes, or
refuses it); Django's SMTP mailer points at it. Conversations come in through
`email_receive_now`, replies through `conversation_reply`, and the real outbox sends them.
"""

import datetime
import email
import email.policy
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks

from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Conversation, DeliveryStatus, Message, MessageDirection
from rapport.inbox.services import conversation_reply, reply_retry
from rapport.integrations.email.receive import email_receive_now
from rapport.outbox.models import OutboxItem, OutboxStatus
from rapport.outbox.services import outbox_deliver_due
from rapport.users.models import User

pytestmark = pytest.mark.django_db

SUPPORT = "support@rapport.example"
CUSTOMER = "ana@acme.example"
ROOT_ID = "q1@mail.acme.example"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sink:
    """A relay that keeps every email it takes, or answers DATA with `refusal`."""

    port: int
    # (envelope sender, envelope recipients, message), in the order they came.
    taken: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refusal: str = ""
    controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refusal:
            return self.refusal
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(bytes(raw), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.taken.append((str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The emails for *address* (members get request notices through the same relay)."""
        return [message for _, rcpt, message in self.taken if address in rcpt]

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=5)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def relay_port(settings: Any) -> int:
    """Point Django's default mailer at plain SMTP on a free local port; return the port."""
    port = free_port()
    settings.SUPPORT_EMAIL = SUPPORT
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "timeout": 5},
        }
    }
    return port


@pytest.fixture
def sink(relay_port: int) -> Iterator[Sink]:
    running = Sink(relay_port)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def max_member(make_user: Callable[..., User]) -> User:
    return make_user("max@rapport.example", name="Max Member")


def customer_email(
    message_id: str,
    text: str,
    *,
    subject: str = "Invoice 1042 shows the wrong VAT number",
    in_reply_to: str = "",
    references: list[str] | None = None,
    minutes_ago: int = 60,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Ana Lima <{CUSTOMER}>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now() - datetime.timedelta(minutes=minutes_ago))
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        message["References"] = " ".join(f"<{r}>" for r in references)
    message.set_content(text)
    return bytes(message)


def receive(raw: bytes) -> int:
    receipt = email_receive_now(raw)
    assert not receipt.rejected, receipt.rejected
    assert receipt.conversation_id is not None, receipt.event.error
    return receipt.conversation_id


@pytest.fixture
def conversation(db: None) -> Conversation:
    """Ana's email about her invoice, in the Acme account."""
    make_account("Acme", domain="acme.example")
    pk = receive(customer_email(ROOT_ID, "The VAT number on invoice 1042 is wrong."))
    return Conversation.objects.get(pk=pk)


def run_outbox(capture: Callable[..., Any]) -> dict[str, int]:
    """Make the due outside calls, and run what they queued after commit (triage)."""
    with capture(execute=True):
        return outbox_deliver_due()


def backoff_passes() -> None:
    """Make every waiting outbox item due now, as if its backoff had passed."""
    OutboxItem.objects.filter(status=OutboxStatus.PENDING).update(
        available_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def ids(value: str) -> list[str]:
    return [part.strip("<>") for part in value.split()]


def test_a_reply_is_emailed_from_the_support_address_threaded_under_the_customers_message(
    sink: Sink,
    conversation: Conversation,
    max_member: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    reply = conversation_reply(
        actor=max_member, conversation=conversation, text="We fixed the VAT number.\nSorry!"
    )
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert sink.taken == []  # nothing leaves before the outbox runs

    before = timezone.now()
    assert run_outbox(django_capture_on_commit_callbacks) == {"sent": 1, "retry": 0, "failed": 0}

    [(mail_from, rcpt_to, sent)] = [t for t in sink.taken if CUSTOMER in t[1]]
    assert (mail_from, rcpt_to) == (SUPPORT, [CUSTOMER])
    [sender] = sent["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Max Member", SUPPORT)
    [to] = sent["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Ana Lima", CUSTOMER)
    assert sent["Subject"] == "Re: Invoice 1042 shows the wrong VAT number"
    assert sent["Reply-To"] == SUPPORT
    assert sent.get_content().splitlines() == ["We fixed the VAT number.", "Sorry!"]
    message_id = sent["Message-ID"].strip("<>")
    assert message_id.startswith("reply-") and message_id.endswith("@rapport.example")
    assert ids(sent["In-Reply-To"]) == [ROOT_ID]
    assert ROOT_ID in ids(sent["References"])
    # The member's own address never reaches the customer.
    assert "max@rapport.example" not in sent.as_string()

    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert reply.delivery_error == ""
    assert reply.sent_at >= before
    # The reply is known by its Message-ID from now on.
    assert reply.external_id == message_id


def test_the_customers_answer_to_a_reply_threads_back_into_the_same_conversation(
    sink: Sink,
    conversation: Conversation,
    max_member: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    conversation_reply(actor=max_member, conversation=conversation, text="Which invoice?")
    run_outbox(django_capture_on_commit_callbacks)
    ours = sink.to(CUSTOMER)[0]["Message-ID"].strip("<>")

    answer = customer_email(
        "q2@mail.acme.example",
        "Invoice 1042, as the subject says.",
        subject="Re: Invoice 1042 shows the wrong VAT number",
        in_reply_to=ours,
        references=[ROOT_ID, ours],
        minutes_ago=0,
    )
    assert receive(answer) == conversation.pk

    # A mail client that only says which message it answers (no References) joins too.
    terse = customer_email(
        "q3@mail.acme.example", "Also invoice 1043.", in_reply_to=ours, minutes_ago=0
    )
    assert receive(terse) == conversation.pk

    conversation.refresh_from_db()
    assert conversation.message_count == 4
    assert Conversation.objects.count() == 1
    directions = list(conversation.messages.values_list("direction", flat=True))
    assert directions.count(MessageDirection.OUTBOUND) == 1

    # The next reply answers the customer's latest message and carries the whole chain.
    conversation_reply(actor=max_member, conversation=conversation, text="Both fixed.")
    run_outbox(django_capture_on_commit_callbacks)
    second = sink.to(CUSTOMER)[1]
    assert ids(second["In-Reply-To"]) == ["q3@mail.acme.example"]
    chain = ids(second["References"])
    assert chain[0] == ROOT_ID
    assert {ours, "q2@mail.acme.example", "q3@mail.acme.example"} <= set(chain)
    assert second["Subject"] == "Re: Invoice 1042 shows the wrong VAT number"


def test_a_reply_the_relay_refuses_with_550_fails_with_the_reason(
    sink: Sink,
    conversation: Conversation,
    max_member: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    sink.refusal = "550 5.7.1 Message refused by policy"
    reply = conversation_reply(actor=max_member, conversation=conversation, text="Fixed.")

    assert run_outbox(django_capture_on_commit_callbacks) == {"sent": 0, "retry": 0, "failed": 1}

    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    # The relay's answer, as text a member reads.
    assert reply.delivery_error == (
        "The mail server refused the email: 550 5.7.1 Message refused by policy"
    )
    assert OutboxItem.objects.get().status == OutboxStatus.FAILED
    # Nothing more is tried.
    backoff_passes()
    assert outbox_deliver_due() == {"sent": 0, "retry": 0, "failed": 0}


def test_a_reply_waits_while_the_relay_is_down_and_goes_out_once_it_is_back(
    relay_port: int,
    conversation: Conversation,
    max_member: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    reply = conversation_reply(actor=max_member, conversation=conversation, text="Fixed.")
    before = timezone.now()

    # Nothing listens on the relay's port.
    assert run_outbox(django_capture_on_commit_callbacks) == {"sent": 0, "retry": 1, "failed": 0}

    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert reply.delivery_error.startswith("Not sent yet, trying again: ")
    assert "could not take the email now" in reply.delivery_error
    item = OutboxItem.objects.get()
    assert item.status == OutboxStatus.PENDING
    assert item.available_at > before

    relay = Sink(relay_port)
    relay.start()
    try:
        # Not due yet: the outbox waits for the backoff.
        assert outbox_deliver_due() == {"sent": 0, "retry": 0, "failed": 0}
        backoff_passes()
        assert run_outbox(django_capture_on_commit_callbacks) == {
            "sent": 1,
            "retry": 0,
            "failed": 0,
        }
    finally:
        relay.stop()

    [sent] = relay.to(CUSTOMER)
    assert sent["Subject"] == "Re: Invoice 1042 shows the wrong VAT number"
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_error) == (DeliveryStatus.SENT, "")
    assert reply.external_id == sent["Message-ID"].strip("<>")


def test_a_failed_reply_retried_goes_out_with_the_same_message_id(
    sink: Sink,
    conversation: Conversation,
    max_member: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    sink.refusal = "554 5.7.1 Relay access denied"
    reply = conversation_reply(actor=max_member, conversation=conversation, text="Fixed.")
    run_outbox(django_capture_on_commit_callbacks)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED

    sink.refusal = ""
    retried = reply_retry(actor=max_member, message=reply)
    assert (retried.delivery_status, retried.delivery_error) == (DeliveryStatus.QUEUED, "")
    assert run_outbox(django_capture_on_commit_callbacks) == {"sent": 1, "retry": 0, "failed": 0}

    [sent] = sink.to(CUSTOMER)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert sent["Message-ID"] == f"<{reply.external_id}>"
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND).count() == 1

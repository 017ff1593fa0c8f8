"""An email is read for before its write transaction; what changes meanwhile is caught.

`email_receive_now` (and the tickets API) read what processing needs before the one
transaction that stores and processes the message, so that transaction holds SQLite's
write lock only to plan and write. A thread or an account that another delivery created
in between must not be created twice: the message joins what the other one made.
"""

from collections.abc import Callable
from typing import Any

import pytest

from rapport.accounts.models import Account, Contact
from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Conversation, Message
from rapport.integrations.email import receive
from rapport.integrations.email.receive import email_receive_now
from rapport.mapping.services import mapping_settings_update
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def email(message_id: str, *, sender: str, headers: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: support@rapport.example\r\nSubject: Invoice\r\n"
        f"Message-ID: <{message_id}>\r\n{headers}\r\nMessage {message_id}.\r\n"
    ).encode()


def meanwhile(monkeypatch: pytest.MonkeyPatch, deliver: Callable[[], object]) -> None:
    """Have *deliver* run between the next email's reads and its write transaction."""
    prepare = receive.inbound_event_prepare

    def prepare_then_deliver(*args: Any, **kwargs: Any) -> Any:
        prepared = prepare(*args, **kwargs)
        monkeypatch.setattr(receive, "inbound_event_prepare", prepare)
        deliver()
        return prepared

    monkeypatch.setattr(receive, "inbound_event_prepare", prepare_then_deliver)


def test_a_reply_whose_thread_started_meanwhile_joins_that_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = email("root@newco.example", sender="ana@newco.example")
    reply = email(
        "reply@newco.example",
        sender="bo@newco.example",
        headers="In-Reply-To: <root@newco.example>\r\nReferences: <root@newco.example>\r\n",
    )
    meanwhile(monkeypatch, lambda: email_receive_now(root))

    receipt = email_receive_now(reply)

    conversation = Conversation.objects.get()
    assert receipt.conversation_id == conversation.pk
    assert sorted(Message.objects.values_list("external_id", flat=True)) == [
        "reply@newco.example",
        "root@newco.example",
    ]
    assert conversation.message_count == 2


def test_an_account_created_meanwhile_for_the_domain_is_linked_not_made_twice(
    monkeypatch: pytest.MonkeyPatch, admin_user: User
) -> None:
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)
    first = email("first@newco.example", sender="ana@newco.example")
    second = email("second@newco.example", sender="bo@newco.example")
    meanwhile(monkeypatch, lambda: email_receive_now(first))

    receipt = email_receive_now(second)

    account = Account.objects.get()
    assert account.primary_domain == "newco.example"
    assert receipt.conversation_id is not None
    conversation = Conversation.objects.get(pk=receipt.conversation_id)
    assert conversation.account_id == account.pk
    assert Conversation.objects.filter(account=account).count() == 2


def test_a_person_who_became_a_contact_meanwhile_is_linked_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = make_account("Acme", domain="acme.example")
    first = email("first@acme.example", sender="ana@acme.example")
    second = email("second@acme.example", sender="ana@acme.example")
    meanwhile(monkeypatch, lambda: email_receive_now(first))

    receipt = email_receive_now(second)

    assert receipt.conversation_id is not None
    contact = Contact.objects.get()
    assert contact.email == "ana@acme.example"
    assert list(contact.accounts.all()) == [account]
    account.refresh_from_db()
    assert account.contact_count == 1
    assert Conversation.objects.get(pk=receipt.conversation_id).requester_id == contact.pk

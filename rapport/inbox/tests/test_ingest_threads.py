"""Messages join their thread's conversation once, and their authors become contacts.

The batch of normalized messages (`batch.py`): threading, repeated deliveries, team
replies, edits and deletes, and who becomes a contact of which account.
"""

import datetime
from typing import Any

import pytest

from rapport.accounts.models import Contact
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.tests.factories import make_account
from rapport.inbox.adapters import IncomingMessage
from rapport.inbox.batch import message_ingest
from rapport.inbox.ingest import inbound_events_process
from rapport.inbox.models import Conversation, Message, MessageDirection, Source
from rapport.inbox.tests.kit import T0, store, ticket_payload
from rapport.mapping.engine import MappingContext
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome
from rapport.mapping.services import mapping_override
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def email_message(
    external_id: str, author: str, *, minutes: int = 0, **fields: Any
) -> IncomingMessage:
    """A message of the email thread "root@x" (normalized, as an adapter would hand it over)."""
    values: dict[str, Any] = {
        "source": Source.EMAIL,
        "external_id": external_id,
        "thread_key": "root@x",
        "text": f"message {external_id}",
        "sent_at": T0 + datetime.timedelta(minutes=minutes),
        "author_email": author,
        "subject": "Renewal",
    } | fields
    return IncomingMessage(**values)


def ingest(*messages: IncomingMessage) -> Conversation | None:
    context = MappingContext.load()
    conversation = None
    for message in messages:
        conversation = message_ingest(message, context)
    return conversation


def test_the_messages_of_one_thread_share_a_conversation_mapped_once(db: None) -> None:
    acme = make_account("Acme", domain="acme.example")
    conversation = ingest(
        email_message("m1@x", "jo@acme.example", author_name="Jo"),
        email_message("m2@x", "jo@acme.example", minutes=5),
    )

    assert conversation is not None
    conversation.refresh_from_db()
    assert (conversation.account, conversation.message_count) == (acme, 2)
    assert conversation.last_message_at == T0 + datetime.timedelta(minutes=5)
    assert (conversation.requester_email, conversation.requester_name) == ("jo@acme.example", "Jo")
    assert MappingDecision.objects.filter(conversation=conversation).count() == 1
    assert list(conversation.messages.values_list("external_id", flat=True)) == ["m1@x", "m2@x"]


def test_the_same_message_from_two_deliveries_is_stored_once(db: None) -> None:
    make_account("Acme", domain="acme.example")
    first = ingest(email_message("m1@x", "jo@acme.example"))
    again = ingest(email_message("m1@x", "jo@acme.example"))

    assert first is not None and again is not None
    assert again.pk == first.pk
    assert Message.objects.count() == 1
    assert Conversation.objects.get().message_count == 1


def test_a_reply_whose_root_was_never_seen_joins_through_its_other_parents(db: None) -> None:
    first = ingest(email_message("m1@x", "jo@acme.example", thread_key="m1@x"))
    reply = ingest(
        email_message("m3@x", "jo@acme.example", thread_key="lost@x", parent_ids=["lost@x", "m1@x"])
    )
    assert first is not None and reply is not None
    assert reply.pk == first.pk


def test_a_new_customer_voice_in_a_linked_conversation_becomes_a_contact(db: None) -> None:
    acme = make_account("Acme", domain="acme.example")
    ingest(
        email_message("m1@x", "jo@acme.example"),
        email_message("m2@x", "Al@Partner.example", author_name="Al", minutes=1),
    )

    assert sorted(acme.contacts.values_list("email", flat=True)) == [
        "al@partner.example",
        "jo@acme.example",
    ]
    assert Contact.objects.get(email="al@partner.example").name == "Al"
    # Jo started the conversation and stays its requester.
    assert Conversation.objects.get().requester == Contact.objects.get(email="jo@acme.example")


def test_a_team_reply_is_outbound_and_never_a_contact(member_user: User) -> None:
    acme = make_account("Acme", domain="acme.example")
    ingest(
        email_message("m1@x", "jo@acme.example"),
        email_message("m2@x", member_user.email, author_user_id=member_user.pk, minutes=1),
    )

    reply = Message.objects.get(external_id="m2@x")
    assert reply.direction == MessageDirection.OUTBOUND
    assert reply.author_user == member_user
    assert list(acme.contacts.values_list("email", flat=True)) == ["jo@acme.example"]
    assert MappingDecision.objects.count() == 1


def test_a_conversation_the_team_started_is_mapped_when_the_customer_first_writes(
    member_user: User,
) -> None:
    acme = make_account("Acme", domain="acme.example")
    ingest(email_message("m1@x", member_user.email, author_user_id=member_user.pk))
    conversation = Conversation.objects.get()
    assert conversation.account is None
    assert conversation.requester_email == ""

    ingest(email_message("m2@x", "jo@acme.example", author_name="Jo", minutes=1))

    conversation.refresh_from_db()
    assert conversation.account == acme
    assert (conversation.requester_email, conversation.requester_name) == ("jo@acme.example", "Jo")
    assert conversation.requester == Contact.objects.get(email="jo@acme.example")
    assert list(acme.contacts.values_list("email", flat=True)) == ["jo@acme.example"]
    latest = MappingDecision.objects.filter(conversation=conversation).first()
    assert latest is not None
    assert (latest.method, latest.outcome) == (MappingMethod.EMAIL_DOMAIN, MappingOutcome.LINKED)


def test_a_customer_without_an_address_is_mapped_once_until_an_address_shows(
    db: None,
) -> None:
    acme = make_account("Acme", domain="acme.example")
    # A chat visitor (or a Slack user hiding their email) writes twice, then a colleague
    # with an address joins.
    ingest(
        email_message("m1@x", "", author_name="Visitor"),
        email_message("m2@x", "", author_name="Visitor", minutes=1),
    )
    conversation = Conversation.objects.get()
    assert list(conversation.mapping_decisions.values_list("method", flat=True)) == ["none"]

    ingest(email_message("m3@x", "jo@acme.example", minutes=2))

    conversation.refresh_from_db()
    assert conversation.account == acme
    assert conversation.requester_email == "jo@acme.example"
    assert conversation.mapping_decisions.count() == 2


def test_a_conversation_a_person_unlinked_is_not_mapped_again(admin_user: User) -> None:
    acme = make_account("Acme", domain="acme.example")
    conversation = ingest(email_message("m1@x", "jo@acme.example"))
    assert conversation is not None
    mapping_override(actor=admin_user, conversation=conversation, account=None)

    ingest(email_message("m2@x", "al@acme.example", minutes=1))

    conversation.refresh_from_db()
    assert conversation.account is None
    assert conversation.mapping_method == MappingMethod.MANUAL
    assert list(acme.contacts.values_list("email", flat=True)) == ["jo@acme.example"]


def test_an_edit_and_a_delete_change_the_stored_message(db: None) -> None:
    ingest(email_message("m1@x", "jo@acme.example"))
    ingest(
        email_message("m1@x", "jo@acme.example", action="edit", text="fixed", minutes=2),
        email_message("m1@x", "jo@acme.example", action="delete", minutes=3),
    )

    message = Message.objects.get()
    assert message.text == "fixed"
    assert message.edited_at == T0 + datetime.timedelta(minutes=2)
    assert message.deleted_at == T0 + datetime.timedelta(minutes=3)
    assert Conversation.objects.get().message_count == 1


def test_an_edit_of_an_unknown_message_is_ignored(db: None) -> None:
    assert ingest(email_message("m9@x", "jo@acme.example", action="edit")) is None
    assert not Conversation.objects.exists()


def test_a_requester_address_rapport_cannot_store_stays_on_the_message(db: None) -> None:
    acme = make_account("Acme", domain="acme.example")
    [event_id] = store(("t-1", ticket_payload("jo@localhost", account_id=acme.pk)))

    assert inbound_events_process([event_id]) == {"done": 1}
    conversation = Conversation.objects.get()
    assert conversation.account == acme
    assert conversation.requester is None
    assert conversation.requester_email == "jo@localhost"
    assert not Contact.objects.exists()


def test_a_known_contact_keeps_the_name_it_has(db: None) -> None:
    acme = make_account("Acme", domain="acme.example")
    contact_add_to_account(account=acme, email="jo@acme.example", name="Joanna")
    ingest(email_message("m1@x", "jo@acme.example", author_name="Jo"))

    assert Contact.objects.get().name == "Joanna"
    acme.refresh_from_db()
    assert acme.contact_count == 1


def test_a_nameless_contact_takes_the_name_the_requester_gives(db: None) -> None:
    acme = make_account("Acme", domain="acme.example")
    contact_add_to_account(account=acme, email="jo@acme.example")
    ingest(email_message("m1@x", "jo@acme.example", author_name="Jo"))

    assert Contact.objects.get().name == "Jo"

"""The email channel: one stored event per message, threads, requesters as contacts."""

import pytest
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks

from rapport.accounts.models import Contact
from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import (
    Conversation,
    InboundEvent,
    InboundEventStatus,
    Message,
    MessageDirection,
)
from rapport.integrations.email.receive import email_event_id, email_receive, email_receive_now
from rapport.integrations.email.tests.email_corpus import corpus_message
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def deliver(raw: bytes) -> int:
    receipt = email_receive_now(raw)
    assert not receipt.rejected, receipt.rejected
    assert receipt.conversation_id is not None, receipt.event.error
    return receipt.conversation_id


def email(message_id: str, *, sender: str = "ana@acme.example", headers: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: support@rapport.example\r\nSubject: Thread test\r\n"
        f"Message-ID: <{message_id}>\r\n{headers}\r\nMessage {message_id}.\r\n"
    ).encode()


# --- storing --------------------------------------------------------------------------------


def test_receiving_stores_the_raw_message_and_processing_waits_for_the_commit(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    raw = corpus_message("plain.eml")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        receipt = email_receive(raw, envelope={"via": "smtp", "mail_from": "ana@acme.example"})
        assert receipt.event.status == InboundEventStatus.PENDING
        assert not Message.objects.exists()
    # The enqueue of inbound_process, then (once it stored the message) that of triage.
    assert len(callbacks) == 2
    event = InboundEvent.objects.get()
    assert (bytes(event.raw), event.payload["via"]) == (raw, "smtp")
    assert event.external_id == email_event_id(raw) == "plain-1@mail.acme.example"
    assert event.status == InboundEventStatus.DONE
    assert Message.objects.get().event == event


def test_the_same_message_delivered_three_times_creates_one_message() -> None:
    make_account("Acme", domain="acme.example")
    raw = corpus_message("plain.eml")
    receipts = [email_receive_now(raw) for _ in range(3)]
    assert [r.created for r in receipts] == [True, False, False]
    assert len({r.conversation_id for r in receipts}) == 1
    assert (InboundEvent.objects.count(), Message.objects.count()) == (1, 1)


def test_a_message_that_can_never_be_ingested_is_stored_rejected_with_its_reason() -> None:
    receipt = email_receive(corpus_message("missing-from.eml"))
    assert receipt.rejected == "The message has no valid sender address (From header)."
    event = InboundEvent.objects.get()
    assert (event.status, event.error) == (InboundEventStatus.REJECTED, receipt.rejected)
    assert event.processed_at is not None
    assert not Conversation.objects.exists()


# --- threading ------------------------------------------------------------------------------


def test_a_reply_with_in_reply_to_joins_the_conversation_of_its_parent() -> None:
    first = deliver(corpus_message("plain.eml"))
    reply = deliver(corpus_message("reply-in-reply-to.eml"))
    assert reply == first
    conversation = Conversation.objects.get()
    assert (conversation.subject, conversation.message_count) == (
        "Invoice 1042 shows the wrong VAT number",
        2,
    )


def test_a_reply_with_a_references_chain_joins_though_its_direct_parent_was_never_seen() -> None:
    first = deliver(corpus_message("plain.eml"))
    # In-Reply-To names a message Rapport never received; References starts at the root.
    assert deliver(corpus_message("reply-references-chain.eml")) == first
    assert Conversation.objects.get().message_count == 2


def test_a_reply_whose_root_was_never_seen_joins_through_any_known_parent() -> None:
    # The customer's thread began with a message Rapport never got.
    first = deliver(email("b@acme.example", headers="In-Reply-To: <unseen-root@acme.example>\r\n"))
    # A later reply starts its References at yet another unseen message.
    refs = "References: <other-unseen@acme.example> <b@acme.example>\r\n"
    assert deliver(email("c@acme.example", headers=refs)) == first
    refs = "References: <somewhere-else@acme.example>\r\nIn-Reply-To: <c@acme.example>\r\n"
    assert deliver(email("d@acme.example", headers=refs)) == first
    assert Conversation.objects.get().message_count == 3


def test_replies_arriving_before_their_parent_share_the_thread_the_parent_then_joins() -> None:
    # The reply names the root in In-Reply-To: it starts the conversation under the root.
    reply = deliver(corpus_message("reply-in-reply-to.eml"))
    root = deliver(corpus_message("plain.eml"))
    chain = deliver(corpus_message("reply-references-chain.eml"))
    assert reply == root == chain
    conversation = Conversation.objects.get()
    # The conversation keeps what the first arrival said; messages sort by their Date.
    assert conversation.subject == "Re: Invoice 1042 shows the wrong VAT number"
    assert list(conversation.messages.values_list("external_id", flat=True)) == [
        "plain-1@mail.acme.example",
        "plain-2@mail.acme.example",
        "plain-4@mail.acme.example",
    ]


def test_a_reply_naming_only_a_parent_that_arrives_later_keeps_its_own_conversation() -> None:
    # Documented limit: C names only B (no References); C arrives first, then B, a reply
    # to A. C's conversation is keyed by B, B's by A, and conversations are not merged.
    root = deliver(email("a@acme.example"))
    early = deliver(email("c@acme.example", headers="In-Reply-To: <b@acme.example>\r\n"))
    middle = deliver(email("b@acme.example", headers="References: <a@acme.example>\r\n"))
    assert middle == root != early
    # Later messages that name the whole chain join the root's conversation.
    refs = "References: <a@acme.example> <b@acme.example> <c@acme.example>\r\n"
    assert deliver(email("d@acme.example", headers=refs)) == root


def test_a_message_listing_itself_among_its_parents_does_not_loop() -> None:
    own = deliver(email("self@acme.example", headers="References: <self@acme.example>\r\n"))
    assert Conversation.objects.get().pk == own


# --- people ---------------------------------------------------------------------------------


def test_a_sender_from_a_known_accounts_domain_becomes_its_contact() -> None:
    acme = make_account("Acme", domain="acme.example")
    conversation_id = deliver(corpus_message("plain.eml"))
    contact = Contact.objects.get(email="ana@acme.example")
    assert (contact.name, list(contact.accounts.all())) == ("Ana Lima", [acme])
    conversation = Conversation.objects.get(pk=conversation_id)
    assert (conversation.account, conversation.requester) == (acme, contact)
    # A colleague who answers in the same thread becomes a contact of the account too.
    colleague = email("colleague@acme.example", sender="Bo Chen <bo@acme.example>")
    deliver(colleague.replace(b"\r\n\r\n", b"\r\nIn-Reply-To: <plain-1@mail.acme.example>\r\n\r\n"))
    assert set(acme.contacts.values_list("email", flat=True)) == {
        "ana@acme.example",
        "bo@acme.example",
    }


def test_a_sender_from_an_international_domain_becomes_a_contact_of_its_account() -> None:
    buecher = make_account("Bücher", domain="bücher.example")
    deliver(corpus_message("idn-sender-domain.eml"))
    contact = Contact.objects.get()
    assert contact.email == "juergen@xn--bcher-kva.example"
    assert list(contact.accounts.all()) == [buecher]


def test_a_reply_from_a_team_member_is_outbound_and_makes_no_contact(member_user: User) -> None:
    make_account("Acme", domain="acme.example")
    first = deliver(corpus_message("plain.eml"))
    headers = "In-Reply-To: <plain-1@mail.acme.example>\r\n"
    assert deliver(email("answer@rapport.example", sender=member_user.email, headers=headers)) == (
        first
    )
    answer = Message.objects.get(external_id="answer@rapport.example")
    assert (answer.direction, answer.author_user) == (MessageDirection.OUTBOUND, member_user)
    assert not Contact.objects.filter(email=member_user.email).exists()


def test_the_api_and_the_listener_share_one_idempotency_key(admin_api: Client) -> None:
    raw = corpus_message("plain.eml")
    receipt = email_receive_now(raw, envelope={"via": "smtp"})
    response = admin_api.generic(
        "POST", "/api/v1/inbound/email", raw, content_type="message/rfc822"
    )
    assert response.json()["conversation_id"] == receipt.conversation_id
    assert Message.objects.count() == 1

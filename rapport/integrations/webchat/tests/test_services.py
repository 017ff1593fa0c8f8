"""Web chat services: sites, visitors, messages into conversations, team replies."""

from collections.abc import Callable
from typing import Any

import pytest

from rapport.accounts.tests.factories import make_account
from rapport.audit.models import AuditEntry
from rapport.core.errors import InvalidInput, PermissionDenied
from rapport.inbox.models import Conversation, InboundEvent, Message, MessageDirection, Source
from rapport.inbox.services import conversation_reply
from rapport.integrations.webchat.models import ChatSite, ChatVisitor
from rapport.integrations.webchat.selectors import chat_messages_since, chat_visitor_by_token
from rapport.integrations.webchat.services import (
    MESSAGE_MAX_CHARS,
    chat_message_receive,
    chat_site_create,
    chat_site_update,
    chat_visitor_link_conversation,
    chat_visitor_start,
)
from rapport.integrations.webchat.tests.factories import make_site, make_visitor
from rapport.users.models import User

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]


def _say(
    capture: Capture, site: ChatSite, visitor: ChatVisitor, text: str, client_id: str = "m1"
) -> InboundEvent:
    with capture(execute=True):
        event, _ = chat_message_receive(
            site=site, visitor=visitor, client_message_id=client_id, text=text
        )
    event.refresh_from_db()
    return event


# --- sites ------------------------------------------------------------------------------------


def test_an_admin_adds_a_site_with_a_fresh_public_key_and_normalized_origins(
    admin_user: User,
) -> None:
    site = chat_site_create(
        actor=admin_user,
        name=" Acme Shop ",
        allowed_origins=["https://WWW.Acme-Shop.example/", "https://www.acme-shop.example:443", ""],
    )
    other = make_site("Globex")
    assert site.name == "Acme Shop"
    assert site.public_key.startswith("pk_") and len(site.public_key) > 20
    assert site.public_key != other.public_key
    assert site.allowed_origins == ["https://www.acme-shop.example"]
    entry = AuditEntry.objects.get(action="webchat.site_create", object_id=str(site.pk))
    assert entry.actor == admin_user
    assert entry.changes["allowed_origins"]["after"] == ["https://www.acme-shop.example"]


def test_a_member_cannot_add_or_change_a_site(member_user: User, site: ChatSite) -> None:
    with pytest.raises(PermissionDenied):
        chat_site_create(actor=member_user, name="Mine", allowed_origins=[])
    with pytest.raises(PermissionDenied):
        chat_site_update(actor=member_user, site=site, allowed_origins=["https://evil.example"])
    site.refresh_from_db()
    assert site.allowed_origins == ["https://www.acme-shop.example"]
    assert ChatSite.objects.count() == 1


def test_an_origin_with_a_path_or_wildcard_is_refused_and_nothing_changes(
    admin_user: User, site: ChatSite
) -> None:
    with pytest.raises(InvalidInput, match="not an origin"):
        chat_site_update(actor=admin_user, site=site, allowed_origins=["https://shop.example/app"])
    with pytest.raises(InvalidInput, match="not an origin"):
        chat_site_create(actor=admin_user, name="Any", allowed_origins=["*"])
    site.refresh_from_db()
    assert site.allowed_origins == ["https://www.acme-shop.example"]


def test_changing_a_site_is_audited(admin_user: User, site: ChatSite) -> None:
    chat_site_update(
        actor=admin_user,
        site=site,
        allowed_origins=["https://www.acme-shop.example", "http://localhost:3000"],
        is_active=False,
    )
    entry = AuditEntry.objects.get(action="webchat.site_update")
    assert entry.changes["allowed_origins"]["after"] == [
        "https://www.acme-shop.example",
        "http://localhost:3000",
    ]
    assert entry.changes["active"] == {"before": True, "after": False}


# --- visitors ---------------------------------------------------------------------------------


def test_a_visitor_starts_with_a_secret_token_that_is_stored_only_as_a_digest(
    site: ChatSite,
) -> None:
    visitor, token = chat_visitor_start(
        site=site, email=" Jo@Acme.Example ", name="  Jo   Buyer ", ip="203.0.113.7"
    )
    assert token.startswith("wcv_") and len(token) > 40
    assert visitor.email == "jo@acme.example"
    assert visitor.name == "Jo Buyer"
    assert visitor.ip == "203.0.113.7"
    assert token not in visitor.token_digest
    assert chat_visitor_by_token(site, token) == visitor
    assert chat_visitor_by_token(site, token + "x") is None
    assert chat_visitor_by_token(make_site("Other"), token) is None


@pytest.mark.parametrize("email", ["", "jo", "jo@", "jo@acme", "a b@acme.example", "jo\x00@a.io"])
def test_a_visitor_needs_a_valid_email(site: ChatSite, email: str) -> None:
    with pytest.raises(InvalidInput):
        chat_visitor_start(site=site, email=email, name="Jo")
    assert not ChatVisitor.objects.exists()


# --- messages ---------------------------------------------------------------------------------


def test_a_message_becomes_a_conversation_linked_by_the_visitors_email_domain(
    site: ChatSite, django_capture_on_commit_callbacks: Capture
) -> None:
    acme = make_account("Acme", domain="acme.example")
    visitor, _ = make_visitor(site, email="jo@acme.example", name="Jo Buyer", verified=True)
    event = _say(django_capture_on_commit_callbacks, site, visitor, "My order is late\nOrder 42")

    assert event.status == "done"
    conversation = Conversation.objects.get()
    assert conversation.source == Source.WEB_CHAT
    assert conversation.thread_key == f"webchat:{visitor.pk}"
    assert conversation.subject == "My order is late"
    assert conversation.account == acme
    assert conversation.mapping_method == "email_domain"
    assert conversation.mapping_outcome == "linked"
    assert conversation.requester_email == "jo@acme.example"
    assert conversation.requester_identity == "verified"
    assert conversation.requester is not None and conversation.requester.email == "jo@acme.example"
    message = Message.objects.get()
    assert (message.author_email, message.author_name) == ("jo@acme.example", "Jo Buyer")
    assert message.text == "My order is late\nOrder 42"
    assert message.sent_at == event.received_at


def test_a_visitor_with_a_public_email_stays_unmatched(
    site: ChatSite, django_capture_on_commit_callbacks: Capture
) -> None:
    make_account("Acme", domain="acme.example")
    visitor, _ = make_visitor(site, email="jo.buyer@gmail.com")
    _say(django_capture_on_commit_callbacks, site, visitor, "Hi there")
    conversation = Conversation.objects.get()
    assert conversation.account is None
    assert conversation.mapping_outcome == "unmatched"
    assert "public email domain" in conversation.mapping_decisions.get().reason


def test_the_same_client_message_id_three_times_is_one_message(
    site: ChatSite, django_capture_on_commit_callbacks: Capture
) -> None:
    visitor, _ = make_visitor(site)
    created = []
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            _, new = chat_message_receive(
                site=site, visitor=visitor, client_message_id="abc-1", text="Hello"
            )
        created.append(new)
    assert created == [True, False, False]
    assert InboundEvent.objects.filter(source=Source.WEB_CHAT).count() == 1
    assert Message.objects.count() == 1
    assert Conversation.objects.get().message_count == 1


def test_two_visitors_may_use_the_same_client_message_id(
    site: ChatSite, django_capture_on_commit_callbacks: Capture
) -> None:
    jo, _ = make_visitor(site, email="jo@acme.example")
    max_, _ = make_visitor(site, email="max@acme.example")
    _say(django_capture_on_commit_callbacks, site, jo, "From Jo", client_id="1")
    _say(django_capture_on_commit_callbacks, site, max_, "From Max", client_id="1")
    assert Conversation.objects.count() == 2
    assert Message.objects.count() == 2


def test_later_messages_join_the_visitors_conversation(
    site: ChatSite, django_capture_on_commit_callbacks: Capture
) -> None:
    visitor, _ = make_visitor(site)
    _say(django_capture_on_commit_callbacks, site, visitor, "First", client_id="1")
    _say(django_capture_on_commit_callbacks, site, visitor, "Second", client_id="2")
    conversation = Conversation.objects.get()
    assert conversation.message_count == 2
    assert conversation.subject == "First"


@pytest.mark.parametrize(
    ("client_id", "text", "error"),
    [
        ("m1", "", "Write a message first"),
        ("m1", "   \n ", "Write a message first"),
        ("m1", "x" * (MESSAGE_MAX_CHARS + 1), "longer than"),
        ("m1", "nul\x00", "NUL"),
        ("", "Hello", "client_message_id"),
        ("a" * 65, "Hello", "client_message_id"),
        ("has space", "Hello", "client_message_id"),
    ],
)
def test_a_bad_message_is_refused_and_nothing_is_stored(
    site: ChatSite, client_id: str, text: str, error: str
) -> None:
    visitor, _ = make_visitor(site)
    with pytest.raises(InvalidInput, match=error):
        chat_message_receive(site=site, visitor=visitor, client_message_id=client_id, text=text)
    assert not InboundEvent.objects.exists()


def test_a_visitor_cannot_write_to_another_site(site: ChatSite) -> None:
    visitor, _ = make_visitor(make_site("Globex"))
    with pytest.raises(InvalidInput, match="another site"):
        chat_message_receive(site=site, visitor=visitor, client_message_id="1", text="Hi")
    assert not InboundEvent.objects.exists()


def test_an_event_whose_visitor_is_gone_is_rejected(
    site: ChatSite, django_capture_on_commit_callbacks: Capture
) -> None:
    visitor, _ = make_visitor(site)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event, _ = chat_message_receive(
            site=site, visitor=visitor, client_message_id="1", text="Hi"
        )
    visitor.delete()
    for callback in callbacks:
        callback()
    event.refresh_from_db()
    assert event.status == "rejected"
    assert "no longer exists" in event.error
    assert not Conversation.objects.exists()


# --- polling and replies ------------------------------------------------------------------------


def test_a_team_reply_appears_in_the_visitors_messages(
    site: ChatSite, member_user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    visitor, _ = make_visitor(site)
    assert chat_visitor_link_conversation(visitor) is None
    assert chat_messages_since(visitor) == []
    _say(django_capture_on_commit_callbacks, site, visitor, "Where is my order?")

    conversation_id = chat_visitor_link_conversation(visitor)
    conversation = Conversation.objects.get()
    assert conversation_id == conversation.pk
    visitor.refresh_from_db()
    assert visitor.conversation == conversation

    reply = conversation_reply(
        actor=member_user, conversation=conversation, text="  It ships today.  "
    )
    assert reply.direction == MessageDirection.OUTBOUND
    assert reply.source == Source.WEB_CHAT
    assert reply.external_id.startswith("reply-")
    assert reply.author_user == member_user
    assert reply.text == "It ships today."
    conversation.refresh_from_db()
    assert conversation.message_count == 2
    assert conversation.last_message_at == reply.sent_at

    everything = chat_messages_since(visitor)
    assert [(m.direction, m.text) for m in everything] == [
        ("inbound", "Where is my order?"),
        ("outbound", "It ships today."),
    ]
    assert chat_messages_since(visitor, everything[0].pk) == [reply]
    assert chat_messages_since(visitor, everything[0].sent_at) == [reply]
    assert chat_messages_since(visitor, reply.pk) == []


def test_an_empty_reply_is_refused(
    site: ChatSite, member_user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    visitor, _ = make_visitor(site)
    _say(django_capture_on_commit_callbacks, site, visitor, "Hi")
    conversation = Conversation.objects.get()
    with pytest.raises(InvalidInput):
        conversation_reply(actor=member_user, conversation=conversation, text="  ")
    assert Message.objects.count() == 1

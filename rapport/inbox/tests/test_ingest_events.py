"""Stored events become conversations: once each, in order, in batches, despite failures.

The ingest path after storage (`ingest.py`): processing is idempotent, a failing event is
retried then failed without blocking the others, and a batch ends as its events processed
one by one, for a few queries whatever its size.
"""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.accounts.models import Account, Contact
from rapport.accounts.tests.factories import make_account, make_channel
from rapport.inbox import adapters
from rapport.inbox.adapters import Delivery, EventRejected, IncomingMessage
from rapport.inbox.ingest import MAX_ATTEMPTS, inbound_events_process
from rapport.inbox.models import (
    Conversation,
    InboundEvent,
    InboundEventStatus,
    Message,
    MessageDirection,
    Source,
)
from rapport.inbox.services import inbound_event_store, inbound_events_store_many
from rapport.inbox.tests.kit import T0, store, ticket_payload
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome
from rapport.mapping.services import mapping_settings_update
from rapport.users.models import User

pytestmark = pytest.mark.django_db


# --- events --------------------------------------------------------------------------------


def test_a_stored_ticket_becomes_a_conversation_with_one_message(db: None) -> None:
    acme = make_account("Acme", domain="acme.example")
    [event_id] = store(("t-1", ticket_payload("Jo@Acme.example", requester_name="Jo")))

    assert inbound_events_process([event_id]) == {"done": 1}

    event = InboundEvent.objects.get(pk=event_id)
    assert (event.status, event.attempts, event.error) == (InboundEventStatus.DONE, 1, "")
    assert event.processed_at is not None
    conversation = Conversation.objects.get(source=Source.API, thread_key="t-1")
    assert (conversation.account, conversation.subject, conversation.message_count) == (
        acme,
        "Help",
        1,
    )
    assert (conversation.requester_email, conversation.requester_name) == ("jo@acme.example", "Jo")
    assert conversation.requester == Contact.objects.get(email="jo@acme.example")
    [message] = conversation.messages.all()
    assert (message.text, message.author_email, message.event_id) == (
        "It broke.",
        "jo@acme.example",
        event_id,
    )
    assert message.direction == MessageDirection.INBOUND
    assert conversation.last_message_at == message.sent_at == event.received_at


def test_processing_an_event_again_changes_nothing(db: None) -> None:
    make_account("Acme", domain="acme.example")
    ids = store(
        ("t-1", ticket_payload("jo@acme.example")), ("t-2", ticket_payload("al@acme.example"))
    )
    assert inbound_events_process(ids) == {"done": 2}

    assert inbound_events_process(ids) == {}
    assert inbound_events_process([]) == {}
    assert Conversation.objects.count() == Message.objects.count() == 2
    assert MappingDecision.objects.count() == 2
    assert set(InboundEvent.objects.values_list("attempts", flat=True)) == {1}


def test_a_redelivered_event_is_stored_once(db: None) -> None:
    first, created = inbound_event_store(source=Source.API, external_id="t-1", payload={"a": 1})
    again, created_again = inbound_event_store(
        source=Source.API, external_id="t-1", payload={"a": 2}
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert again.payload == {"a": 1}
    assert InboundEvent.objects.count() == 1


def test_storing_many_skips_events_seen_before_and_repeated_within_the_batch(db: None) -> None:
    payload = ticket_payload("jo@acme.example")
    assert inbound_events_store_many(Source.API, [("a", payload), ("b", payload)]) == 2
    assert (
        inbound_events_store_many(Source.API, [("b", payload), ("c", payload), ("c", payload)]) == 1
    )
    assert sorted(InboundEvent.objects.values_list("external_id", flat=True)) == ["a", "b", "c"]


def test_an_event_without_an_id_is_refused(db: None) -> None:
    from rapport.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="needs an id"):
        inbound_event_store(source=Source.API, external_id="")
    assert not InboundEvent.objects.exists()


def test_a_failing_event_is_retried_then_failed_without_blocking_the_others(db: None) -> None:
    make_account("Acme", domain="acme.example")
    ids = store(
        ("good-1", ticket_payload("jo@acme.example")),
        ("poison", ticket_payload("al@acme.example", account_id="not-a-number")),
        ("good-2", ticket_payload("mo@acme.example")),
    )

    assert inbound_events_process(ids) == {"done": 2, "pending": 1}
    poison = InboundEvent.objects.get(external_id="poison")
    assert (poison.status, poison.attempts, poison.processed_at) == ("pending", 1, None)
    assert poison.error.startswith("ValueError:")
    assert not Conversation.objects.filter(thread_key="poison").exists()
    assert Conversation.objects.count() == 2

    for _ in range(MAX_ATTEMPTS - 1):
        inbound_events_process([poison.pk])
    poison.refresh_from_db()
    assert (poison.status, poison.attempts) == (InboundEventStatus.FAILED, MAX_ATTEMPTS)
    assert poison.processed_at is not None
    assert inbound_events_process([poison.pk]) == {}


def test_events_are_processed_in_the_order_they_arrived(admin_user: User) -> None:
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)
    ids = store(
        ("t-1", ticket_payload("jo@initech.example")),
        ("t-2", ticket_payload("al@initech.example")),
    )
    inbound_events_process(list(reversed(ids)))

    first, second = (
        MappingDecision.objects.get(conversation__thread_key=k) for k in ("t-1", "t-2")
    )
    assert (first.method, second.method) == (MappingMethod.AUTO_CREATE, MappingMethod.EMAIL_DOMAIN)


def test_a_batch_sees_the_accounts_and_contacts_its_earlier_events_created(
    admin_user: User,
) -> None:
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)
    acme = make_account("Acme", domain="acme.example")
    globex = make_account("Globex", domain="globex.example")
    channel = make_channel("shared", accounts=[acme, globex])
    ids = store(
        ("t-1", ticket_payload("jo@initech.example")),
        ("t-2", ticket_payload("al@initech.example")),
        # Jo becomes a contact of Globex, then writes in the channel Acme and Globex share.
        ("t-3", ticket_payload("jo@partner.example", account_id=globex.pk)),
        ("t-4", ticket_payload("jo@partner.example", slack_channel=channel.slack_channel_id)),
        ("t-5", ticket_payload("mo@initech.example")),
    )
    assert inbound_events_process(ids) == {"done": 5}

    decisions = {
        d.conversation.thread_key: (d.method, d.account.name if d.account else None)
        for d in MappingDecision.objects.select_related("conversation", "account")
    }
    assert decisions == {
        "t-1": (MappingMethod.AUTO_CREATE, "Initech"),
        "t-2": (MappingMethod.EMAIL_DOMAIN, "Initech"),
        "t-3": (MappingMethod.ACCOUNT_ID, "Globex"),
        "t-4": (MappingMethod.CONTACT, "Globex"),
        "t-5": (MappingMethod.EMAIL_DOMAIN, "Initech"),
    }
    initech = Account.objects.get(primary_domain="initech.example")
    assert initech.contact_count == 3
    assert sorted(initech.contacts.values_list("email", flat=True)) == [
        "al@initech.example",
        "jo@initech.example",
        "mo@initech.example",
    ]


def test_the_workspace_settings_in_force_when_a_batch_starts_apply_to_it(
    admin_user: User,
) -> None:
    ids = store(("t-1", ticket_payload("jo@initech.example")))
    inbound_events_process(ids)
    assert not Account.objects.exists()

    mapping_settings_update(actor=admin_user, auto_create_accounts=True)
    ids = store(("t-2", ticket_payload("al@initech.example")))
    inbound_events_process(ids)
    assert Account.objects.get().primary_domain == "initech.example"
    # The first conversation keeps its decision: mapping happens once, when it starts.
    assert Conversation.objects.get(thread_key="t-1").account is None


# --- a batch is the same as its events one by one -----------------------------------------

# The web chat channel, with this test's adapter standing in for the real one (restored
# after each test): each event's payload spells out its message.
CHAT = Source.WEB_CHAT


@pytest.fixture
def chat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let CHAT events be normalized by this test's adapter."""

    class TestChannel(adapters.ConversationChannel):
        source = CHAT
        label = "Test chat"

        def normalize(self, event: InboundEvent, extra: Any) -> IncomingMessage | None:
            return normalize(event)

        def deliver(self, message: Message) -> Delivery:
            return Delivery()

    def normalize(event: InboundEvent) -> IncomingMessage | None:
        p = event.payload
        if p.get("ignore"):
            return None
        if p.get("reject"):
            raise EventRejected(p["reject"])
        if p.get("boom"):
            raise RuntimeError("the adapter broke")
        return IncomingMessage(
            source=CHAT,
            external_id=p["id"],
            thread_key=p.get("thread", ""),
            text=p.get("text", ""),
            sent_at=T0 + datetime.timedelta(minutes=p["minute"]),
            author_email=p.get("email", ""),
            author_name=p.get("name", ""),
            author_user_id=p.get("member"),
            parent_ids=p.get("parents", []),
            action=p.get("action", "create"),
        )

    monkeypatch.setitem(adapters._CHANNELS, CHAT, TestChannel())


def chat_events(member: User) -> list[tuple[str, dict[str, Any]]]:
    """A busy stretch of conversation: threads, replies, repeats, edits and noise."""
    return [
        # The team starts thread A; the customer answers; a colleague of theirs joins.
        (
            "e1",
            {
                "id": "m1",
                "thread": "A",
                "minute": 1,
                "member": member.pk,
                "email": member.email,
                "text": "Checking in",
            },
        ),
        ("e2", {"id": "m2", "thread": "A", "minute": 2, "email": "jo@acme.example", "name": "Jo"}),
        ("e3", {"id": "m3", "thread": "A", "minute": 3, "email": "al@partner.example"}),
        # A new company writes in thread B (its account is created), twice.
        (
            "e4",
            {
                "id": "m4",
                "thread": "B",
                "minute": 4,
                "email": "mo@initech.example",
                "name": "Mo",
                "text": "first",
            },
        ),
        ("e5", {"id": "m5", "thread": "B", "minute": 5, "email": "mo@initech.example"}),
        # The same message m5 again, in another event.
        ("e6", {"id": "m5", "thread": "B", "minute": 5, "email": "mo@initech.example"}),
        # Mo edits m4; a reply whose root is unknown joins B through its parent m4.
        ("e7", {"id": "m4", "action": "edit", "minute": 6, "text": "first, edited"}),
        (
            "e8",
            {
                "id": "m8",
                "thread": "lost-root",
                "parents": ["lost-root", "m4"],
                "minute": 7,
                "email": "mo@initech.example",
            },
        ),
        # Jo deletes m2; noise; a rejected event; an edit of a message never seen.
        ("e9", {"id": "m2", "action": "delete", "minute": 8}),
        ("e10", {"ignore": True}),
        ("e11", {"reject": "Not a message Rapport can read."}),
        ("e12", {"id": "m-unknown", "action": "edit", "minute": 9}),
    ]


@pytest.mark.usefixtures("chat")
@pytest.mark.parametrize("mode", ["one batch", "one event at a time", "one batch, one bad event"])
def test_a_batch_ends_as_its_events_processed_one_by_one(admin_user: User, mode: str) -> None:
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)
    acme = make_account("Acme", domain="acme.example")
    events = chat_events(admin_user)
    if mode == "one batch, one bad event":
        # The batch fails as a whole, and its events are then taken one at a time.
        events.insert(4, ("bad", {"boom": True}))
    inbound_events_store_many(CHAT, events)
    ids = list(InboundEvent.objects.order_by("pk").values_list("pk", flat=True))

    if mode == "one event at a time":
        for event_id in ids:
            inbound_events_process([event_id])
    else:
        inbound_events_process(ids)

    statuses = dict(InboundEvent.objects.values_list("external_id", "status"))
    assert statuses.pop("bad", "pending") == "pending"
    assert statuses == {f"e{n}": "done" for n in range(1, 10)} | {
        "e10": "ignored",
        "e11": "rejected",
        "e12": "ignored",
    }
    assert InboundEvent.objects.get(external_id="e11").error == "Not a message Rapport can read."
    a, b = (Conversation.objects.get(source=CHAT, thread_key=key) for key in ("A", "B"))
    assert Conversation.objects.filter(source=CHAT).count() == 2
    # Thread A: mapped when Jo first wrote; Jo is its requester, Al a new contact.
    assert (a.account, a.message_count, a.requester_email, a.requester_name) == (
        acme,
        3,
        "jo@acme.example",
        "Jo",
    )
    assert a.requester == Contact.objects.get(email="jo@acme.example")
    assert list(a.mapping_decisions.order_by("id").values_list("method", "outcome")) == [
        (MappingMethod.NONE, MappingOutcome.UNMATCHED),
        (MappingMethod.EMAIL_DOMAIN, MappingOutcome.LINKED),
    ]
    assert (a.mapping_method, a.mapping_outcome) == ("email_domain", "linked")
    # Thread B: its account was created by the first message; m8 joined it.
    initech = Account.objects.get(primary_domain="initech.example")
    assert (b.account, b.message_count, b.requester.email if b.requester else None) == (
        initech,
        3,
        "mo@initech.example",
    )
    assert b.last_message_at == T0 + datetime.timedelta(minutes=7)
    assert list(b.mapping_decisions.values_list("method", flat=True)) == ["auto_create"]
    messages = {m.external_id: m for m in Message.objects.filter(source=CHAT)}
    assert sorted(messages) == ["m1", "m2", "m3", "m4", "m5", "m8"]
    assert messages["m1"].direction == MessageDirection.OUTBOUND
    assert (messages["m4"].text, messages["m4"].edited_at) == (
        "first, edited",
        T0 + datetime.timedelta(minutes=6),
    )
    assert messages["m2"].deleted_at == T0 + datetime.timedelta(minutes=8)
    assert messages["m8"].conversation_id == b.pk
    contacts = {
        c.email: (c.name, sorted(c.accounts.values_list("name", flat=True)))
        for c in Contact.objects.all()
    }
    assert contacts == {
        "jo@acme.example": ("Jo", ["Acme"]),
        "al@partner.example": ("", ["Acme"]),
        "mo@initech.example": ("Mo", ["Initech"]),
    }
    acme.refresh_from_db()
    initech.refresh_from_db()
    assert (acme.contact_count, initech.contact_count) == (2, 1)


# --- cost ----------------------------------------------------------------------------------


def _queries_to_process(count: int, prefix: str) -> int:
    ids = store(
        *((f"{prefix}-{i}", ticket_payload(f"p{i % 10}@acme.example")) for i in range(count))
    )
    with CaptureQueriesContext(connection) as queries:
        assert inbound_events_process(ids) == {"done": count}
    return len(queries)


def test_a_batch_costs_the_same_few_queries_whatever_its_size(db: None) -> None:
    make_account("Acme", domain="acme.example")
    _queries_to_process(10, "warm")  # the ten requesters become contacts
    # Returning requesters of a known account: the common case of a busy install.
    small, large = _queries_to_process(10, "small"), _queries_to_process(200, "large")

    # 18 with the insert that queues the new messages for triage, and the read of the
    # events to enrich before the batch's transaction.
    assert small == large <= 18, (small, large)
    assert Message.objects.count() == Conversation.objects.count() == 220
    assert not InboundEvent.objects.exclude(status=InboundEventStatus.DONE).exists()

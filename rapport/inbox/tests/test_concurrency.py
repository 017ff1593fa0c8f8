"""Simultaneous deliveries, on real threads with their own database connections.

Twenty first messages from one new domain create one account; every event delivered
three times, in any order and at once, is stored and processed once.

PostgreSQL: the test database, with transactions committed for real. SQLite: the
default test database lives in memory and one connection cannot be shared between
threads, so these tests copy it into a WAL-mode file that each thread opens with the
install's settings (IMMEDIATE transactions, a busy timeout).
"""

import random
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from rapport.accounts.models import Account, AccountContact, Contact
from rapport.accounts.services import account_create
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.inbox.ingest import inbound_events_process
from rapport.inbox.models import Conversation, InboundEvent, InboundEventStatus, Message, Source
from rapport.inbox.services import inbound_events_store_many
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome
from rapport.mapping.services import mapping_settings_update
from rapport.users.models import Role
from rapport.users.services import api_token_create, user_create

# Threads commit for real; the test database is emptied afterwards.
pytestmark = pytest.mark.django_db(transaction=True)

TICKETS = "/api/v1/tickets"


@pytest.fixture
def shared_database(
    request: pytest.FixtureRequest, django_db_blocker: Any, tmp_path: Path
) -> Iterator[Path | None]:
    """Give the test a database every thread (and process) can open; yield its file.

    On PostgreSQL this is the test database (yields None); on SQLite a WAL-mode copy of
    the migrated in-memory test database, in *tmp_path*. Data written here never reaches
    the in-memory database the other tests use.
    """
    request.getfixturevalue("transactional_db")
    if connection.vendor != "sqlite":
        yield None
        return
    with django_db_blocker.unblock():
        settings_dict = connection.settings_dict
        memory_name = settings_dict["NAME"]
        assert "mode=memory" in str(memory_name), f"not the test database: {memory_name}"
        # The in-memory database lives as long as one connection to it is open.
        keeper = sqlite3.connect(memory_name, uri=True)
        path = tmp_path / "rapport.sqlite3"
        target = sqlite3.connect(path)
        keeper.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
        target.close()
        settings_dict["NAME"] = str(path)
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone() == ("wal",)
        try:
            yield path
        finally:
            connection.close()
            settings_dict["NAME"] = memory_name
            connection.ensure_connection()
            keeper.close()


def race(work: Callable[[int], Any], threads: int) -> list[Any]:
    """Run work(i) on *threads* threads released at once; return each result or error."""
    barrier = threading.Barrier(threads)
    outcomes: list[Any] = [None] * threads

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[i] = exc
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers)
    return outcomes


def api_headers() -> dict[str, str]:
    """Turn automatic account creation on; return the headers of an admin's API client."""
    admin = user_create(email="racer@example.test", password=None, name="Racer", role=Role.ADMIN)
    mapping_settings_update(actor=admin, auto_create_accounts=True)
    return {"Authorization": f"Bearer {api_token_create(user=admin)[1]}"}


def post_ticket(token_headers: dict[str, str], body: dict[str, Any], key: str = "") -> Any:
    """POST a ticket from this thread, with its own client; return (status, answer)."""
    headers = token_headers | ({"Idempotency-Key": key} if key else {})
    response = Client(headers=headers).post(TICKETS, body, content_type="application/json")
    return response.status_code, response.json()


def contact_counts_are_true() -> bool:
    """Say whether each account's stored contact count and search text match its contacts."""
    links = Counter(AccountContact.objects.values_list("account_id", flat=True))
    for account in Account.objects.all():
        emails = account.contacts.values_list("email", flat=True)
        if account.contact_count != links.get(account.pk, 0):
            return False
        if not all(email in account.search_text for email in emails):
            return False
    return True


# --- 14. simultaneous first messages ------------------------------------------------------


@pytest.mark.usefixtures("shared_database")
def test_twenty_simultaneous_first_messages_from_a_new_domain_create_one_account() -> None:
    headers = api_headers()
    outcomes = race(
        lambda i: post_ticket(
            headers,
            {"requester_email": f"person{i}@acmecorp.com", "subject": f"Help {i}"},
        ),
        threads=20,
    )

    assert all(isinstance(o, tuple) and o[0] == 201 for o in outcomes), outcomes
    [account] = Account.objects.all()
    assert (account.name, account.primary_domain) == ("Acmecorp", "acmecorp.com")
    answers = [answer for _, answer in outcomes]
    assert {a["account_id"] for a in answers} == {account.pk}
    assert Conversation.objects.filter(account=account).count() == 20
    decisions = Counter(MappingDecision.objects.values_list("method", "outcome"))
    assert decisions == {
        (MappingMethod.AUTO_CREATE, MappingOutcome.CREATED): 1,
        (MappingMethod.EMAIL_DOMAIN, MappingOutcome.LINKED): 19,
    }
    assert Counter(a["mapping"]["method"] for a in answers) == {
        "auto_create": 1,
        "email_domain": 19,
    }
    # Every requester became a contact of the one account, and its count says so.
    assert account.contacts.count() == 20
    account.refresh_from_db()
    assert account.contact_count == 20
    assert contact_counts_are_true()
    assert InboundEvent.objects.filter(status=InboundEventStatus.DONE).count() == 20


@pytest.mark.usefixtures("shared_database")
def test_simultaneous_creations_of_one_domain_through_the_service_make_one_account() -> None:
    outcomes = race(
        lambda i: account_create(actor=None, name=f"Racer {i}", primary_domain="race.example"),
        threads=10,
    )

    winners = [o for o in outcomes if isinstance(o, Account)]
    assert len(winners) == 1, outcomes
    assert Account.objects.get().pk == winners[0].pk


@pytest.mark.usefixtures("shared_database")
def test_simultaneous_new_contacts_of_one_account_are_all_counted() -> None:
    account = account_create(actor=None, name="Acme", primary_domain="acme.example")
    race(
        lambda i: contact_add_to_account(account=account, email=f"p{i}@acme.example"),
        threads=12,
    )

    account.refresh_from_db()
    assert account.contact_count == 12
    assert all(f"p{i}@acme.example" in account.search_text for i in range(12))


# --- 15. every event delivered three times, interleaved ------------------------------------


def _tickets(existing: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Thirty tickets: known and new companies, a public domain, shared requesters."""
    domains = [*existing, "initech.example", "umbrella.example", "gmail.com"]
    return [
        (
            f"ticket-{n:02d}",
            {
                "requester_email": f"person{n % 3}@{domains[n % len(domains)]}",
                "requester_name": f"Person {n % 3}",
                "subject": f"Question {n}",
                "body": f"Ticket {n}",
            },
        )
        for n in range(30)
    ]


def _assert_each_ticket_stored_once(tickets: list[tuple[str, dict[str, Any]]]) -> None:
    keys = sorted(key for key, _ in tickets)
    assert sorted(InboundEvent.objects.values_list("external_id", flat=True)) == keys
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"done"}
    assert sorted(Conversation.objects.values_list("thread_key", flat=True)) == keys
    assert sorted(Message.objects.values_list("external_id", flat=True)) == keys
    assert Conversation.objects.filter(message_count=1).count() == 30
    assert (
        sorted(MappingDecision.objects.values_list("conversation__thread_key", flat=True)) == keys
    )
    # One account per company domain: two known, two created.
    assert sorted(str(d) for d in Account.objects.values_list("primary_domain", flat=True)) == [
        "acme.example",
        "globex.example",
        "initech.example",
        "umbrella.example",
    ]
    company_emails = {
        body["requester_email"] for _, body in tickets if "gmail" not in body["requester_email"]
    }
    assert set(Contact.objects.values_list("email", flat=True)) == company_emails
    assert AccountContact.objects.count() == len(company_emails)
    assert contact_counts_are_true()
    assert not Conversation.objects.filter(account__isnull=False, requester__isnull=True).exists()


@pytest.mark.usefixtures("shared_database")
def test_tickets_delivered_three_times_at_once_are_each_created_once() -> None:
    headers = api_headers()
    for name in ("Acme", "Globex"):
        account_create(actor=None, name=name, primary_domain=f"{name.lower()}.example")
    tickets = _tickets(["acme.example", "globex.example"])
    deliveries = [ticket for ticket in tickets for _ in range(3)]
    random.Random(15).shuffle(deliveries)
    threads = 6
    shares = [deliveries[i::threads] for i in range(threads)]

    outcomes = race(
        lambda i: [post_ticket(headers, body, key) + (key,) for key, body in shares[i]],
        threads=threads,
    )

    answers = [answer for share in outcomes for answer in share]
    assert len(answers) == 90, outcomes
    assert Counter(status for status, _, _ in answers) == {201: 30, 200: 60}
    by_key: dict[str, list[dict[str, Any]]] = {}
    for _, answer, key in answers:
        by_key.setdefault(key, []).append(answer)
    assert all(len({repr(a) for a in same}) == 1 for same in by_key.values()), by_key
    _assert_each_ticket_stored_once(tickets)


@pytest.mark.usefixtures("shared_database")
def test_batches_delivered_three_times_at_once_store_and_process_each_event_once() -> None:
    api_headers()  # turns automatic account creation on
    for name in ("Acme", "Globex"):
        account_create(actor=None, name=name, primary_domain=f"{name.lower()}.example")
    tickets = _tickets(["acme.example", "globex.example"])
    copies = []
    for seed in range(3):
        copy = list(tickets)
        random.Random(seed).shuffle(copy)
        copies.append(copy)

    # Each thread stores one shuffled copy in batches of 7; the new events of each
    # batch are processed (inline, in the test settings) once the batch commits.
    outcomes = race(
        lambda i: sum(
            inbound_events_store_many(Source.API, copies[i][n : n + 7], batch_size=7)
            for n in range(0, 30, 7)
        ),
        threads=3,
    )

    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(outcomes) == 30
    _assert_each_ticket_stored_once(tickets)


# --- several workers, several batches at once ----------------------------------------------


@pytest.mark.usefixtures("shared_database")
def test_workers_processing_batches_at_once_neither_deadlock_nor_fail(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api_headers()  # turns automatic account creation on
    settings.TASKS = {  # store without processing: the threads below are the workers
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    account_create(actor=None, name="Acme", primary_domain="acme.example")
    domains = ["acme.example", *(f"new{n}.example" for n in range(8))]
    workers = 4
    # Each worker's batch meets the same new domains and people, in its own order.
    tickets = [
        (
            f"ticket-{w}-{n:02d}",
            {
                "requester_email": f"person{n % 3}@{domains[(n * (w + 2)) % len(domains)]}",
                "subject": f"Question {w}/{n}",
            },
        )
        for w in range(workers)
        for n in range(40)
    ]
    inbound_events_store_many(Source.API, tickets)
    ids = dict(InboundEvent.objects.values_list("external_id", "pk"))
    batches = [
        [ids[key] for key, _ in tickets if key.startswith(f"ticket-{w}-")] for w in range(workers)
    ]

    with caplog.at_level("WARNING", logger="rapport.inbox.ingest"):
        outcomes = race(lambda w: inbound_events_process(batches[w]), threads=workers)

    assert outcomes == [{"done": 40}] * workers, outcomes
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert set(InboundEvent.objects.values_list("status", "attempts")) == {("done", 1)}
    assert Account.objects.count() == len(domains)
    assert Counter(MappingDecision.objects.values_list("method", flat=True))["auto_create"] == 8
    people = {body["requester_email"] for _, body in tickets}
    assert set(Contact.objects.values_list("email", flat=True)) == people
    assert contact_counts_are_true()

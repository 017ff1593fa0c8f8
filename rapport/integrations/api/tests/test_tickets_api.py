"""`POST /api/v1/tickets`: a customer request in, its conversation and mapping out."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.accounts.models import Account, Contact
from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Conversation, InboundEvent, Message, Source
from rapport.mapping.models import MappingDecision
from rapport.mapping.services import mapping_override
from rapport.users.models import User

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets"


def post(api: Client, body: dict[str, Any], **headers: str) -> Any:
    return api.post(TICKETS, body, content_type="application/json", headers=headers)


def test_a_ticket_answers_201_with_its_id_account_and_mapping(admin_api: Client) -> None:
    acme = make_account("Acme", domain="acme.example")
    response = post(
        admin_api,
        {
            "requester_email": "Jo@Acme.example",
            "requester_name": "Jo Doe",
            "subject": "Export stuck",
            "body": "The CSV export stops at row 5,000.",
        },
    )

    assert response.status_code == 201
    answer = response.json()
    assert set(answer) == {"id", "account_id", "mapping"}
    assert answer["account_id"] == acme.pk
    assert answer["mapping"] == {
        "method": "email_domain",
        "outcome": "linked",
        "reason": "Linked to Acme by primary domain acme.example.",
    }
    conversation = Conversation.objects.get(pk=answer["id"])
    assert (conversation.source, conversation.subject) == (Source.API, "Export stuck")
    assert (conversation.requester_email, conversation.requester_name) == (
        "jo@acme.example",
        "Jo Doe",
    )
    [message] = conversation.messages.all()
    assert message.text == "The CSV export stops at row 5,000."
    assert message.author_email == "jo@acme.example"
    assert InboundEvent.objects.get().status == "done"


def test_a_member_may_create_tickets(member_api: Client) -> None:
    assert post(member_api, {"requester_email": "jo@acme.example"}).status_code == 201


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YTpi"}],
)
def test_a_ticket_needs_an_api_token(db: None, headers: dict[str, str]) -> None:
    response = Client(headers=headers).post(
        TICKETS, {"requester_email": "jo@acme.example"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert "error" in response.json()
    assert not InboundEvent.objects.exists()


def test_a_retry_with_the_same_idempotency_key_answers_the_same_ticket(
    admin_api: Client,
) -> None:
    make_account("Acme", domain="acme.example")
    body = {"requester_email": "jo@acme.example", "subject": "Help"}
    first = post(admin_api, body, **{"Idempotency-Key": "req-1"})
    again = post(admin_api, body, **{"Idempotency-Key": "req-1"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Conversation.objects.count() == Message.objects.count() == 1
    assert MappingDecision.objects.count() == 1
    assert InboundEvent.objects.get().external_id == "req-1"


def test_the_same_key_with_another_body_is_a_conflict_and_changes_nothing(
    admin_api: Client,
) -> None:
    post(admin_api, {"requester_email": "jo@acme.example"}, **{"Idempotency-Key": "req-1"})
    response = post(
        admin_api, {"requester_email": "al@acme.example"}, **{"Idempotency-Key": "req-1"}
    )

    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["error"]
    assert Conversation.objects.count() == 1
    assert not Contact.objects.filter(email="al@acme.example").exists()


def test_without_a_key_every_post_is_a_new_ticket(admin_api: Client) -> None:
    body = {"requester_email": "jo@acme.example"}
    ids = {post(admin_api, body).json()["id"] for _ in range(3)}
    assert len(ids) == 3


def test_a_retry_after_a_person_moved_the_ticket_answers_with_the_move(
    admin_api: Client, admin_user: User
) -> None:
    make_account("Acme", domain="acme.example")
    globex = make_account("Globex", domain="globex.example")
    body = {"requester_email": "jo@acme.example"}
    first = post(admin_api, body, **{"Idempotency-Key": "req-1"}).json()
    conversation = Conversation.objects.get(pk=first["id"])
    mapping_override(actor=admin_user, conversation=conversation, account=globex)

    again = post(admin_api, body, **{"Idempotency-Key": "req-1"}).json()

    assert again["account_id"] == globex.pk
    assert again["mapping"]["method"] == "manual"
    assert again["mapping"]["reason"] == "Moved to Globex by Ada Admin (was Acme)."


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"requester_email": "not-an-address"}, 400, "requester_email"),
        ({}, 422, None),
        ({"requester_email": "jo@acme.example", "account_id": "abc"}, 422, None),
        ({"requester_email": "jo@acme.example", "account_id": 0}, 422, None),
        ({"requester_email": "jo@acme.example", "subject": "x" * 501}, 422, None),
        ({"requester_email": "jo@acme.example", "body": "a\x00b"}, 400, None),
    ],
)
def test_bad_input_gets_a_clear_error_and_stores_nothing(
    admin_api: Client, body: dict[str, Any], status: int, field: str | None
) -> None:
    response = post(admin_api, body)

    assert response.status_code == status, response.content
    answer = response.json()
    assert answer["error"]
    if field:
        assert answer["field"] == field
    assert not InboundEvent.objects.exists()
    assert not Conversation.objects.exists()
    assert not Account.objects.exists()


def test_a_malformed_json_body_is_refused(admin_api: Client) -> None:
    response = admin_api.post(TICKETS, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "The request body is not valid JSON."}
    assert not InboundEvent.objects.exists()


def test_creating_a_ticket_costs_a_fixed_number_of_queries(admin_api: Client) -> None:
    make_account("Acme", domain="acme.example")
    post(admin_api, {"requester_email": "jo@acme.example"})  # warm: Jo becomes a contact

    with CaptureQueriesContext(connection) as queries:
        assert post(admin_api, {"requester_email": "jo@acme.example"}).status_code == 201

    # The token; one transaction (a savepoint in the test) holding the event's insert and the
    # batch (settings, messages and conversations already stored, accounts by domain,
    # contacts and their links, three inserts, the triage queue's insert, the event's
    # status) in savepoints (eight statements). The event the request stored is neither
    # read again before the batch nor after it, and the answer comes from what the batch
    # stored: the ticket takes one turn at the write lock and no read after it.
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 22, "\n".join(sql[:100] for sql in statements)

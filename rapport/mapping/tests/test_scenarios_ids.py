"""Mapping scenarios: a direct account id, then an explicit customer reference.

Each test goes through `POST /api/v1/tickets` and checks what a person sees: the
ticket's answer, the stored decision (method, outcome, candidates, reason), the
conversation's account and the requester as a contact.
"""

import pytest
from django.test import Client

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account
from rapport.mapping.tests.kit import contact_accounts, decision_of, requester_of, ticket

pytestmark = pytest.mark.django_db


# --- Scenario 1: direct account id ---------------------------------------------------------


def test_a_known_account_id_links_the_ticket_to_that_account(admin_api: Client) -> None:
    acme = make_account("Acme", domain="acme.example")
    answer = ticket(admin_api, "jo@elsewhere.example", account_id=acme.pk)

    assert answer["account_id"] == acme.pk
    assert answer["mapping"] == {
        "method": "account_id",
        "outcome": "linked",
        "reason": "Linked to Acme by the account id given with the conversation.",
    }
    assert decision_of(answer).candidates == [{"id": acme.pk, "name": "Acme", "via": "account id"}]
    assert contact_accounts("jo@elsewhere.example") == ["Acme"]
    assert requester_of(answer) == "jo@elsewhere.example"


def test_an_unknown_account_id_falls_through_to_the_next_method(admin_api: Client) -> None:
    acme = make_account("Acme", domain="acme.example")
    answer = ticket(admin_api, "jo@acme.example", account_id=acme.pk + 1000)

    assert answer["account_id"] == acme.pk
    assert answer["mapping"]["method"] == "email_domain"
    assert answer["mapping"]["reason"] == "Linked to Acme by primary domain acme.example."


def test_an_unknown_account_id_with_nothing_else_leaves_the_ticket_unlinked(
    admin_api: Client,
) -> None:
    answer = ticket(admin_api, "jo@nobody.example", account_id=987654)

    assert answer["account_id"] is None
    assert answer["mapping"]["outcome"] == "unmatched"
    assert not Account.objects.exists()
    assert contact_accounts("jo@nobody.example") == []


# --- Scenario: explicit customer reference -------------------------------------------------


def test_a_customer_reference_matching_a_crm_company_id_links_the_ticket(
    admin_api: Client,
) -> None:
    make_account("Acme", domain="acme.example")
    globex = make_account("Globex", domain="globex.example", crm_id="4242")
    answer = ticket(admin_api, "jo@acme.example", customer_ref="4242")

    assert answer["account_id"] == globex.pk
    assert answer["mapping"] == {
        "method": "customer_ref",
        "outcome": "linked",
        "reason": "Linked to Globex by its CRM id 4242.",
    }
    assert decision_of(answer).candidates == [
        {"id": globex.pk, "name": "Globex", "via": "CRM id 4242"}
    ]
    assert contact_accounts("jo@acme.example") == ["Globex"]


def test_a_customer_reference_matching_an_external_reference_links_the_ticket(
    admin_api: Client,
) -> None:
    globex = make_account("Globex", domain="globex.example")
    # No service sets the external reference yet (it comes from our other systems).
    Account.objects.filter(pk=globex.pk).update(external_ref="billing-17")
    answer = ticket(admin_api, "jo@elsewhere.example", customer_ref=" billing-17 ")

    assert answer["account_id"] == globex.pk
    assert answer["mapping"]["method"] == "customer_ref"
    assert answer["mapping"]["reason"] == "Linked to Globex by its external reference billing-17."


def test_an_unknown_customer_reference_falls_through_to_the_email_domain(
    admin_api: Client,
) -> None:
    acme = make_account("Acme", domain="acme.example", crm_id="1")
    answer = ticket(admin_api, "jo@acme.example", customer_ref="no-such-company")

    assert answer["account_id"] == acme.pk
    assert answer["mapping"]["method"] == "email_domain"

"""Mapping scenarios: the Slack channel, with the contact cross-reference when several
accounts share it.

Each test goes through `POST /api/v1/tickets` and checks what a person sees: the
ticket's answer, the stored decision (method, outcome, candidates, reason), the
conversation's account and the requester as a contact.
"""

import pytest
from django.test import Client

from rapport.accounts.models import Account
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.tests.factories import make_account, make_channel
from rapport.inbox.models import Conversation
from rapport.mapping.tests.kit import contact_accounts, decision_of, ticket

pytestmark = pytest.mark.django_db


# --- Scenario 2: Slack channel -------------------------------------------------------------


def test_a_channel_linked_to_one_account_links_the_ticket_to_it(admin_api: Client) -> None:
    acme = make_account("Acme", domain="acme.example")
    make_account("Globex", domain="globex.example")
    channel = make_channel("customer-acme", accounts=[acme])
    # The requester's domain points at Globex: the channel comes first.
    answer = ticket(admin_api, "jo@globex.example", slack_channel=channel.slack_channel_id)

    assert answer["account_id"] == acme.pk
    assert answer["mapping"] == {
        "method": "slack_channel",
        "outcome": "linked",
        "reason": "Linked to Acme by the Slack channel #customer-acme.",
    }
    assert decision_of(answer).candidates == [
        {"id": acme.pk, "name": "Acme", "via": "Slack channel #customer-acme"}
    ]
    assert contact_accounts("jo@globex.example") == ["Acme"]
    assert Conversation.objects.get(pk=answer["id"]).channel == channel


def test_a_channel_is_also_found_by_its_name(admin_api: Client) -> None:
    acme = make_account("Acme", domain="acme.example")
    make_channel("customer-acme", accounts=[acme])
    answer = ticket(admin_api, "jo@gmail.com", slack_channel="#customer-acme")

    assert answer["account_id"] == acme.pk
    assert answer["mapping"]["method"] == "slack_channel"


def test_a_shared_channel_links_to_the_one_account_the_requester_is_a_contact_of(
    admin_api: Client,
) -> None:
    acme = make_account("Acme", domain="acme.example")
    globex = make_account("Globex", domain="globex.example")
    channel = make_channel("shared", accounts=[acme, globex])
    contact_add_to_account(account=globex, email="jo@partner.example")
    answer = ticket(admin_api, "jo@partner.example", slack_channel=channel.slack_channel_id)

    assert answer["account_id"] == globex.pk
    assert answer["mapping"] == {
        "method": "contact",
        "outcome": "linked",
        "reason": (
            "Linked to Globex: #shared is shared by Acme and Globex, "
            "and jo@partner.example is a contact of Globex only."
        ),
    }
    assert decision_of(answer).candidates == [
        {"id": acme.pk, "name": "Acme", "via": "Slack channel #shared"},
        {"id": globex.pk, "name": "Globex", "via": "Slack channel #shared"},
    ]
    assert contact_accounts("jo@partner.example") == ["Globex"]


def test_a_shared_channel_and_a_contact_of_both_accounts_go_to_the_email_domain(
    admin_api: Client,
) -> None:
    acme = make_account("Acme", domain="acme.example")
    globex = make_account("Globex", domain="globex.example")
    channel = make_channel("shared", accounts=[acme, globex])
    for account in (acme, globex):
        contact_add_to_account(account=account, email="jo@globex.example")
    answer = ticket(admin_api, "jo@globex.example", slack_channel=channel.slack_channel_id)

    assert answer["account_id"] == globex.pk
    assert answer["mapping"] == {
        "method": "email_domain",
        "outcome": "linked",
        "reason": "Linked to Globex by primary domain globex.example.",
    }


def test_a_shared_channel_and_an_unknown_requester_go_to_the_email_domain(
    admin_api: Client,
) -> None:
    acme = make_account("Acme", domain="acme.example")
    globex = make_account("Globex", domain="globex.example")
    channel = make_channel("shared", accounts=[acme, globex])
    answer = ticket(admin_api, "new@acme.example", slack_channel=channel.slack_channel_id)

    assert answer["account_id"] == acme.pk
    assert answer["mapping"]["method"] == "email_domain"
    assert contact_accounts("new@acme.example") == ["Acme"]


@pytest.mark.usefixtures("auto_create")
def test_a_shared_channel_and_an_unknown_domain_is_a_conflict_and_creates_nothing(
    admin_api: Client,
) -> None:
    acme = make_account("Acme", domain="acme.example")
    globex = make_account("Globex", domain="globex.example")
    channel = make_channel("shared", accounts=[acme, globex])
    answer = ticket(admin_api, "jo@initech.example", slack_channel=channel.slack_channel_id)

    assert answer["account_id"] is None
    assert answer["mapping"] == {
        "method": "slack_channel",
        "outcome": "conflict",
        "reason": (
            "Not linked: #shared is shared by Acme and Globex, "
            "and no account has the domain initech.example."
        ),
    }
    assert decision_of(answer).candidates == [
        {"id": acme.pk, "name": "Acme", "via": "Slack channel #shared"},
        {"id": globex.pk, "name": "Globex", "via": "Slack channel #shared"},
    ]
    assert Account.objects.count() == 2  # the channel matched, so no account is created
    assert contact_accounts("jo@initech.example") == []


def test_a_shared_channel_and_a_public_domain_is_a_conflict(admin_api: Client) -> None:
    acme = make_account("Acme", domain="acme.example")
    globex = make_account("Globex", domain="globex.example")
    channel = make_channel("shared", accounts=[acme, globex])
    answer = ticket(admin_api, "jo@gmail.com", slack_channel=channel.slack_channel_id)

    assert answer["account_id"] is None
    assert answer["mapping"]["outcome"] == "conflict"
    assert answer["mapping"]["reason"] == (
        "Not linked: #shared is shared by Acme and Globex, and gmail.com is a public email "
        "domain, so it says nothing about the company."
    )


def test_a_channel_without_accounts_goes_to_the_email_domain(admin_api: Client) -> None:
    acme = make_account("Acme", domain="acme.example")
    channel = make_channel("lobby")
    answer = ticket(admin_api, "jo@acme.example", slack_channel=channel.slack_channel_id)

    assert answer["account_id"] == acme.pk
    assert answer["mapping"]["method"] == "email_domain"


@pytest.mark.usefixtures("auto_create")
def test_a_channel_without_accounts_still_lets_a_new_domain_create_its_account(
    admin_api: Client,
) -> None:
    channel = make_channel("lobby")
    answer = ticket(admin_api, "jo@initech.example", slack_channel=channel.slack_channel_id)

    assert answer["mapping"]["method"] == "auto_create"
    assert Account.objects.get(pk=answer["account_id"]).primary_domain == "initech.example"


def test_an_unknown_channel_goes_to_the_email_domain(admin_api: Client) -> None:
    acme = make_account("Acme", domain="acme.example")
    answer = ticket(admin_api, "jo@acme.example", slack_channel="C-NOT-REGISTERED")

    assert answer["account_id"] == acme.pk
    assert answer["mapping"]["method"] == "email_domain"
    assert Conversation.objects.get(pk=answer["id"]).channel is None

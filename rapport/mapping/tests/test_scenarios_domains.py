"""Mapping scenarios: the email domain (primary, then secondary, public domains skipped),
then automatic account creation when the workspace allows it.

Each test goes through `POST /api/v1/tickets` and checks what a person sees: the
ticket's answer, the stored decision (method, outcome, candidates, reason), the
conversation's account and the requester as a contact.
"""

import pytest
from django.test import Client

from rapport.accounts.models import Account, AccountSource, Contact
from rapport.accounts.services import account_update
from rapport.accounts.tests.factories import make_account
from rapport.mapping.services import mapping_settings_update
from rapport.mapping.tests.kit import contact_accounts, decision_of, requester_of, ticket
from rapport.users.models import User

pytestmark = pytest.mark.django_db


# --- Scenario 3: email domain --------------------------------------------------------------


def test_the_primary_domain_links_the_ticket(admin_api: Client) -> None:
    acme = make_account("Acme Corporation", domain="acmecorp.com")
    answer = ticket(admin_api, "John@ACMECORP.com", requester_name="John Doe")

    assert answer["account_id"] == acme.pk
    assert answer["mapping"] == {
        "method": "email_domain",
        "outcome": "linked",
        "reason": "Linked to Acme Corporation by primary domain acmecorp.com.",
    }
    decision = decision_of(answer)
    assert decision.candidates == [
        {"id": acme.pk, "name": "Acme Corporation", "via": "primary domain acmecorp.com"}
    ]
    assert decision.requester_domain == "acmecorp.com"
    contact = Contact.objects.get(email="john@acmecorp.com")
    assert contact.name == "John Doe"
    assert list(contact.accounts.all()) == [acme]
    assert requester_of(answer) == "john@acmecorp.com"


def test_a_primary_domain_wins_over_another_accounts_secondary_domain(admin_api: Client) -> None:
    acme = make_account("Acme", domain="acme.example")
    make_account("Acme Holdings", domain="holdings.example", secondary_domains=["acme.example"])
    answer = ticket(admin_api, "jo@acme.example")

    assert answer["account_id"] == acme.pk
    assert answer["mapping"]["reason"] == "Linked to Acme by primary domain acme.example."


def test_a_secondary_domain_links_when_no_primary_domain_matches(admin_api: Client) -> None:
    acme = make_account("Acme", domain="acme.example", secondary_domains=["acme-labs.example"])
    answer = ticket(admin_api, "jo@acme-labs.example")

    assert answer["account_id"] == acme.pk
    assert answer["mapping"] == {
        "method": "email_domain",
        "outcome": "linked",
        "reason": "Linked to Acme by secondary domain acme-labs.example.",
    }
    assert decision_of(answer).candidates == [
        {"id": acme.pk, "name": "Acme", "via": "secondary domain acme-labs.example"}
    ]
    assert contact_accounts("jo@acme-labs.example") == ["Acme"]


@pytest.mark.usefixtures("auto_create")
def test_a_secondary_domain_of_several_accounts_is_a_conflict_and_links_nothing(
    admin_api: Client,
) -> None:
    acme = make_account("Acme", domain="acme.example", secondary_domains=["shared.example"])
    globex = make_account("Globex", domain="globex.example", secondary_domains=["shared.example"])
    answer = ticket(admin_api, "jo@shared.example")

    assert answer["account_id"] is None
    assert answer["mapping"] == {
        "method": "email_domain",
        "outcome": "conflict",
        "reason": "Not linked: shared.example is a secondary domain of Acme and Globex.",
    }
    assert decision_of(answer).candidates == [
        {"id": acme.pk, "name": "Acme", "via": "secondary domain shared.example"},
        {"id": globex.pk, "name": "Globex", "via": "secondary domain shared.example"},
    ]
    assert not decision_of(answer).resolved
    assert Account.objects.count() == 2  # a conflict is not a new company
    assert contact_accounts("jo@shared.example") == []
    assert requester_of(answer) is None


@pytest.mark.usefixtures("auto_create")
def test_a_public_domain_is_skipped_and_creates_no_account(admin_api: Client) -> None:
    make_account("Google", domain="google.example", secondary_domains=["gmail.com"])
    answer = ticket(admin_api, "someone@gmail.com")

    assert answer["account_id"] is None
    assert answer["mapping"] == {
        "method": "email_domain",
        "outcome": "unmatched",
        "reason": (
            "Not linked: gmail.com is a public email domain, so it says nothing about the company."
        ),
    }
    assert Account.objects.count() == 1
    assert contact_accounts("someone@gmail.com") == []


@pytest.mark.usefixtures("auto_create")
def test_a_subdomain_of_a_public_domain_is_public_too(admin_api: Client) -> None:
    answer = ticket(admin_api, "someone@mail.yahoo.com")

    assert answer["account_id"] is None
    assert answer["mapping"]["reason"].startswith("Not linked: mail.yahoo.com is a public")
    assert not Account.objects.exists()


@pytest.mark.usefixtures("auto_create")
def test_a_domain_an_admin_adds_to_the_public_list_is_skipped(
    admin_api: Client, admin_user: User
) -> None:
    mapping_settings_update(actor=admin_user, public_domains_added=["freemail.example"])
    answer = ticket(admin_api, "jo@eu.freemail.example")

    assert answer["mapping"]["outcome"] == "unmatched"
    assert not Account.objects.exists()


def test_a_listed_domain_an_admin_removes_from_the_public_list_maps_again(
    admin_api: Client, admin_user: User
) -> None:
    # A company whose own domain sits on the packaged list by mistake.
    mapping_settings_update(actor=admin_user, public_domains_removed=["mail.com"])
    mail = make_account("Mail.com", domain="mail.com")
    answer = ticket(admin_api, "jo@mail.com")

    assert answer["account_id"] == mail.pk
    assert answer["mapping"]["method"] == "email_domain"


def test_an_unknown_domain_without_automatic_creation_stays_unlinked(admin_api: Client) -> None:
    answer = ticket(admin_api, "jo@initech.example")

    assert answer["account_id"] is None
    assert answer["mapping"] == {
        "method": "email_domain",
        "outcome": "unmatched",
        "reason": (
            "Not linked: no account has the domain initech.example, "
            "and automatic account creation is off."
        ),
    }
    assert not Account.objects.exists()
    assert contact_accounts("jo@initech.example") == []


# --- Scenario 5: automatic account creation ------------------------------------------------


@pytest.mark.usefixtures("auto_create")
def test_a_new_domain_creates_its_account_and_the_requester_becomes_its_contact(
    admin_api: Client,
) -> None:
    answer = ticket(admin_api, "john@acmecorp.com", requester_name="John Doe")

    account = Account.objects.get(pk=answer["account_id"])
    assert account.name == "Acmecorp"
    assert account.primary_domain == "acmecorp.com"
    assert account.source == AccountSource.API
    assert answer["mapping"] == {
        "method": "auto_create",
        "outcome": "created",
        "reason": "Created the account Acmecorp for the new domain acmecorp.com.",
    }
    assert decision_of(answer).candidates == [
        {"id": account.pk, "name": "Acmecorp", "via": "new domain acmecorp.com"}
    ]
    assert contact_accounts("john@acmecorp.com") == ["Acmecorp"]
    assert Contact.objects.get(email="john@acmecorp.com").name == "John Doe"
    assert requester_of(answer) == "john@acmecorp.com"
    account.refresh_from_db()
    assert account.contact_count == 1
    assert "john@acmecorp.com" in account.search_text


@pytest.mark.usefixtures("auto_create")
def test_later_tickets_from_a_created_domain_link_to_the_created_account(
    admin_api: Client,
) -> None:
    first = ticket(admin_api, "john@acmecorp.com")
    second = ticket(admin_api, "mary@acmecorp.com")

    assert second["account_id"] == first["account_id"]
    assert second["mapping"] == {
        "method": "email_domain",
        "outcome": "linked",
        "reason": "Linked to Acmecorp by primary domain acmecorp.com.",
    }
    assert Account.objects.count() == 1
    assert contact_accounts("mary@acmecorp.com") == ["Acmecorp"]
    assert Account.objects.get().contact_count == 2


@pytest.mark.usefixtures("auto_create")
@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("jo@acme-corp.com", "Acme Corp"),
        ("jo@globex.co.uk", "Globex"),
        ("jo@support.initech.io", "Initech"),
        ("jo@bücher.de", "Bücher"),
    ],
)
def test_the_created_account_is_named_after_the_domain(
    admin_api: Client, email: str, name: str
) -> None:
    answer = ticket(admin_api, email)

    assert Account.objects.get(pk=answer["account_id"]).name == name


@pytest.mark.usefixtures("auto_create")
def test_a_new_domain_of_a_renamed_account_links_instead_of_creating(
    admin_api: Client, admin_user: User
) -> None:
    acme = make_account("Acme", domain="old-acme.example")
    account_update(actor=admin_user, account=acme, primary_domain="acme.example")
    answer = ticket(admin_api, "jo@acme.example")

    assert answer["account_id"] == acme.pk
    assert Account.objects.count() == 1

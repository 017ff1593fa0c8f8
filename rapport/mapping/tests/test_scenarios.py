"""Every mapping scenario of the reference, each through `POST /api/v1/tickets`.

The priority order: a direct account id, then an explicit customer reference, then the
Slack channel (with the contact cross-reference when several accounts share it), then
the email domain (primary, then secondary, public domains skipped), then automatic
creation when the workspace allows it. Each test checks what a person sees: the ticket's
answer, the stored decision (method, outcome, candidates, reason), the conversation's
account and the requester as a contact.
"""

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.models import Account, AccountSource, Contact
from rapport.accounts.services import account_update
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.tests.factories import make_account, make_channel
from rapport.inbox.models import Conversation
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome
from rapport.mapping.services import mapping_settings_update
from rapport.users.models import User

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets"


def ticket(api: Client, requester_email: str, **fields: Any) -> dict[str, Any]:
    """Create a ticket and return its answer, after checking it against the stored decision."""
    response = api.post(
        TICKETS,
        {"requester_email": requester_email, "subject": "Help", "body": "It broke.", **fields},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    answer = response.json()
    conversation = Conversation.objects.get(pk=answer["id"])
    [decision] = MappingDecision.objects.filter(conversation=conversation)
    assert answer["account_id"] == conversation.account_id == decision.account_id
    assert answer["mapping"] == {
        "method": decision.method,
        "outcome": decision.outcome,
        "reason": decision.reason,
    }
    assert (conversation.mapping_method, conversation.mapping_outcome) == (
        decision.method,
        decision.outcome,
    )
    return answer


def decision_of(answer: dict[str, Any]) -> MappingDecision:
    return MappingDecision.objects.get(conversation_id=answer["id"])


def contact_accounts(email: str) -> list[str]:
    """Return the names of the accounts *email* is a contact of ([] when no contact)."""
    contact = Contact.objects.filter(email=email).first()
    return sorted(contact.accounts.values_list("name", flat=True)) if contact else []


def requester_of(answer: dict[str, Any]) -> str | None:
    conversation = Conversation.objects.select_related("requester").get(pk=answer["id"])
    return conversation.requester.email if conversation.requester else None


@pytest.fixture
def auto_create(admin_user: User) -> None:
    """Let the workspace create accounts for new domains."""
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)


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


# --- The priority order --------------------------------------------------------------------


@pytest.mark.usefixtures("auto_create")
def test_the_methods_apply_in_the_documented_order(admin_api: Client) -> None:
    by_id = make_account("By Id", domain="by-id.example")
    by_ref = make_account("By Ref", domain="by-ref.example", crm_id="REF-1")
    by_channel = make_account("By Channel", domain="by-channel.example")
    by_domain = make_account("By Domain", domain="by-domain.example")
    channel = make_channel("customer", accounts=[by_channel])
    everything = {
        "account_id": by_id.pk,
        "customer_ref": "REF-1",
        "slack_channel": channel.slack_channel_id,
    }

    steps = [
        (everything, by_id.pk, "account_id"),
        (everything | {"account_id": None}, by_ref.pk, "customer_ref"),
        (everything | {"account_id": None, "customer_ref": ""}, by_channel.pk, "slack_channel"),
        ({}, by_domain.pk, "email_domain"),
    ]
    for fields, account_id, method in steps:
        answer = ticket(admin_api, "jo@by-domain.example", **fields)
        assert (answer["account_id"], answer["mapping"]["method"]) == (account_id, method)
    answer = ticket(admin_api, "jo@brand-new.example")
    assert answer["mapping"]["method"] == "auto_create"
    # The one requester is now a contact of every account a ticket linked to.
    assert contact_accounts("jo@by-domain.example") == [
        "By Channel",
        "By Domain",
        "By Id",
        "By Ref",
    ]


# --- Every decision is one stored record ---------------------------------------------------


def test_each_ticket_stores_exactly_one_decision(admin_api: Client) -> None:
    make_account("Acme", domain="acme.example")
    answers = [ticket(admin_api, email) for email in ("a@acme.example", "b@gmail.com", "c@x.io")]

    assert MappingDecision.objects.count() == 3
    assert sorted(MappingDecision.objects.values_list("outcome", flat=True)) == sorted(
        [MappingOutcome.LINKED, MappingOutcome.UNMATCHED, MappingOutcome.UNMATCHED]
    )
    assert {d.conversation_id for d in MappingDecision.objects.all()} == {a["id"] for a in answers}
    assert all(d.actor is None and not d.overridden for d in MappingDecision.objects.all())
    assert not MappingDecision.objects.filter(method=MappingMethod.MANUAL).exists()

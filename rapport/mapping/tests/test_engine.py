"""The mapping engine on its own: decisions from a request and the workspace settings."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.accounts.models import Account, AccountSource
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.tests.factories import make_account, make_channel
from rapport.mapping.engine import (
    AccountToCreate,
    MappingContext,
    MappingRequest,
    account_name_from_domain,
    email_domain,
    mapping_resolve,
)
from rapport.mapping.models import MappingMethod, MappingOutcome
from rapport.mapping.services import mapping_settings_update
from rapport.users.models import User


def off() -> MappingContext:
    """A batch's context with automatic creation off (a context lives for one batch)."""
    return MappingContext(auto_create=False, public_added=[], public_removed=[])


def on() -> MappingContext:
    return MappingContext(auto_create=True, public_added=[], public_removed=[])


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("support@company.com", "company.com"),
        ("John@ACMECORP.com", "acmecorp.com"),
        (" jo@www.acme.example ", "acme.example"),
        ("jo@acme.example.", "acme.example"),
        ('"odd@name"@acme.example', "acme.example"),
        ("jo@bücher.de", "xn--bcher-kva.de"),
        ("jo@localhost", ""),
        ("jo@-bad-.example", ""),
        ("no-at-sign", ""),
        ("", ""),
    ],
)
def test_the_domain_of_an_email_address_is_normalized(email: str, domain: str) -> None:
    assert email_domain(email) == domain


@pytest.mark.parametrize(
    ("domain", "name"),
    [
        ("acmecorp.com", "Acmecorp"),
        ("acme-corp.com", "Acme Corp"),
        ("globex.co.uk", "Globex"),
        ("initech.com.au", "Initech"),
        ("support.initech.io", "Initech"),
        ("xn--bcher-kva.de", "Bücher"),
        ("io.io", "Io"),
    ],
)
def test_an_account_name_is_derived_from_its_domain(domain: str, name: str) -> None:
    assert account_name_from_domain(domain) == name


@pytest.mark.django_db
def test_the_settings_are_off_until_an_admin_turns_them_on(admin_user: User) -> None:
    context = MappingContext.load()
    assert (context.auto_create, context.public_added, context.public_removed) == (False, [], [])

    mapping_settings_update(
        actor=admin_user,
        auto_create_accounts=True,
        public_domains_added=["Freemail.example"],
        public_domains_removed=["mail.com"],
    )
    context = MappingContext.load()
    assert context.auto_create
    assert context.is_public("freemail.example")
    assert not context.is_public("mail.com")


@pytest.mark.django_db
def test_a_request_without_an_email_or_a_match_is_unmatched() -> None:
    result = mapping_resolve(MappingRequest(), on())
    assert (result.method, result.outcome, result.account) == (
        MappingMethod.NONE,
        MappingOutcome.UNMATCHED,
        None,
    )
    assert result.reason == "Not linked: the requester has no email address to match."
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_an_address_without_a_usable_domain_is_unmatched_even_with_creation_on() -> None:
    result = mapping_resolve(MappingRequest(requester_email="jo@localhost"), on())
    assert result.outcome == MappingOutcome.UNMATCHED
    assert result.requester_domain == ""
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_an_ambiguous_customer_reference_falls_through() -> None:
    # One account's CRM id is another's external reference: the reference names neither.
    make_account("Acme", domain="acme.example", crm_id="77")
    globex = make_account("Globex", domain="globex.example")
    Account.objects.filter(pk=globex.pk).update(external_ref="77")
    result = mapping_resolve(
        MappingRequest(requester_email="jo@globex.example", customer_ref="77"), off()
    )
    assert (result.method, result.account) == (MappingMethod.EMAIL_DOMAIN, globex)


@pytest.mark.django_db
def test_a_deleted_channel_goes_to_the_email_domain() -> None:
    acme = make_account("Acme", domain="acme.example")
    result = mapping_resolve(
        MappingRequest(requester_email="jo@acme.example", channel_id=10**9), off()
    )
    assert (result.method, result.account) == (MappingMethod.EMAIL_DOMAIN, acme)


@pytest.mark.django_db
def test_the_contact_cross_reference_only_counts_the_channels_accounts() -> None:
    acme = make_account("Acme", domain="acme.example")
    globex = make_account("Globex", domain="globex.example")
    initech = make_account("Initech", domain="initech.example")
    channel = make_channel("shared", accounts=[acme, globex])
    # A contact of Globex and of Initech: among the channel's accounts, only Globex.
    for account in (globex, initech):
        contact_add_to_account(account=account, email="jo@partner.example")
    result = mapping_resolve(
        MappingRequest(requester_email="JO@partner.example", channel_id=channel.pk), off()
    )
    assert (result.method, result.outcome, result.account) == (
        MappingMethod.CONTACT,
        MappingOutcome.LINKED,
        globex,
    )


@pytest.mark.django_db
def test_a_shared_channel_with_a_shared_secondary_domain_is_a_conflict() -> None:
    acme = make_account("Acme", domain="acme.example")
    globex = make_account("Globex", domain="globex.example")
    make_account("Initech", domain="initech.example", secondary_domains=["joint.example"])
    make_account("Umbrella", domain="umbrella.example", secondary_domains=["joint.example"])
    channel = make_channel("shared", accounts=[acme, globex])
    result = mapping_resolve(
        MappingRequest(requester_email="jo@joint.example", channel_id=channel.pk), on()
    )
    assert (result.method, result.outcome, result.account) == (
        MappingMethod.SLACK_CHANNEL,
        MappingOutcome.CONFLICT,
        None,
    )
    assert result.reason == (
        "Not linked: #shared is shared by Acme and Globex, "
        "and joint.example is a secondary domain of Initech and Umbrella."
    )
    assert [c["name"] for c in result.candidates] == ["Acme", "Globex", "Initech", "Umbrella"]


@pytest.mark.django_db
def test_a_shared_channel_names_three_accounts_in_a_sentence() -> None:
    accounts = [make_account(name) for name in ("Acme", "Globex", "Initech")]
    channel = make_channel("everyone", accounts=accounts)
    result = mapping_resolve(MappingRequest(channel_id=channel.pk), on())
    assert result.reason == (
        "Not linked: #everyone is shared by Acme, Globex and Initech, "
        "and the requester has no email address to match."
    )


@pytest.mark.django_db
def test_a_new_domain_is_a_decision_to_create_an_account_and_the_engine_writes_nothing() -> None:
    context = on()
    with CaptureQueriesContext(connection) as queries:
        result = mapping_resolve(
            MappingRequest(requester_email="jo@acmecorp.com", source=AccountSource.SLACK), context
        )

    assert (result.method, result.outcome, result.account) == (
        MappingMethod.AUTO_CREATE,
        MappingOutcome.CREATED,
        None,
    )
    assert result.create == AccountToCreate("Acmecorp", "acmecorp.com", AccountSource.SLACK)
    assert result.requester_domain == "acmecorp.com"
    assert result.candidates == []
    # The context read the domain; nothing was written, locked or created.
    assert queries.captured_queries
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)
    assert not any("pg_advisory" in q["sql"] for q in queries.captured_queries)
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_an_unverified_email_from_a_new_domain_is_no_decision_to_create() -> None:
    make_account("Acme", domain="acme.example")
    claim = MappingRequest(requester_email="kim@newco.example", may_create=False)
    known = MappingRequest(requester_email="jo@acme.example", may_create=False)

    result = mapping_resolve(claim, on())
    linked = mapping_resolve(known, on())

    assert (result.outcome, result.account, result.create) == (
        MappingOutcome.UNMATCHED,
        None,
        None,
    )
    assert result.reason.endswith("an unverified email address never creates an account.")
    # An existing account's domain still links: the claim only points the way.
    assert (linked.outcome, linked.account.name if linked.account else None) == (
        MappingOutcome.LINKED,
        "Acme",
    )


@pytest.mark.django_db
def test_a_new_domain_seen_through_a_shared_channel_is_no_decision_to_create(
    django_assert_num_queries: Any,
) -> None:
    channel = make_channel("shared", accounts=[make_account("Acme"), make_account("Globex")])
    request = MappingRequest(requester_email="jo@initech.example", channel_id=channel.pk)
    context = on()
    context.prefetch([request])

    with django_assert_num_queries(0):
        result = mapping_resolve(request, context)

    assert (result.outcome, result.account, result.create) == (MappingOutcome.CONFLICT, None, None)


@pytest.mark.django_db
def test_a_prefetched_batch_is_resolved_without_further_queries(
    django_assert_num_queries: Any,
) -> None:
    accounts = [
        make_account(f"Company {n}", domain=f"c{n}.example", crm_id=f"crm-{n}") for n in range(6)
    ]
    make_account("Labs", domain="labs-main.example", secondary_domains=["labs.example"])
    channel = make_channel("shared", accounts=accounts[:2])
    contact_add_to_account(account=accounts[1], email="jo@partner.example")
    requests = [
        *(MappingRequest(requester_email=f"p{n}@c{n % 6}.example") for n in range(12)),
        MappingRequest(requester_email="p@labs.example"),
        MappingRequest(requester_email="p@gmail.com"),
        MappingRequest(requester_email="p@nowhere.example"),
        MappingRequest(account_id=accounts[3].pk),
        MappingRequest(customer_ref="crm-4"),
        MappingRequest(requester_email="jo@partner.example", channel_id=channel.pk),
    ]
    context = off()

    # Accounts by id, by reference, the channel and its accounts, the domains (primary,
    # secondary, and the accounts holding secondary ones), and the contacts of the shared
    # channel's requester.
    with django_assert_num_queries(8):
        context.prefetch(requests)
    with django_assert_num_queries(0):
        results = [mapping_resolve(request, context) for request in requests]

    assert [r.method for r in results[-4:]] == [
        "email_domain",
        "account_id",
        "customer_ref",
        "contact",
    ]
    assert results[12].account is not None and results[12].account.name == "Labs"
    assert results[14].reason.endswith("and automatic account creation is off.")

"""Mapping services and the report's selectors: overrides, conflicts, patterns, settings."""

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.accounts.models import Account, AccountSource
from rapport.accounts.tests.factories import make_account
from rapport.audit.models import AuditEntry
from rapport.core.errors import Conflict, InvalidInput, PermissionDenied
from rapport.inbox.adapters import IncomingMessage
from rapport.inbox.batch import message_ingest
from rapport.inbox.models import Conversation, Source
from rapport.mapping.engine import MappingContext, MappingRequest, mapping_resolve
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome
from rapport.mapping.selectors import (
    mapping_automatic_share,
    mapping_conflicts_open,
    mapping_decisions_by_day,
    mapping_override_patterns,
    mapping_settings_get,
    public_domain_check,
)
from rapport.mapping.services import (
    mapping_conflict_resolve,
    mapping_decide,
    mapping_decision_apply,
    mapping_decisions_record,
    mapping_override,
    mapping_pattern_apply,
    mapping_settings_update,
)
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def email(sender: str, message_id: str) -> IncomingMessage:
    return IncomingMessage(
        source=Source.EMAIL,
        external_id=message_id,
        thread_key=message_id,
        text="Hello",
        sent_at=timezone.now(),
        author_email=sender,
    )


def ticket(api: Client, email: str, subject: str = "Help", **fields: Any) -> Conversation:
    payload = {"requester_email": email, "subject": subject} | fields
    response = api.post("/api/v1/tickets", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    return Conversation.objects.get(pk=response.json()["id"])


@pytest.fixture
def betas(db: None) -> tuple[Account, Account]:
    return (
        make_account("Beta Inc", domain="beta.example", secondary_domains=["shared.example"]),
        make_account("Beta Labs", domain="betalabs.example", secondary_domains=["shared.example"]),
    )


# --- carrying decisions out ----------------------------------------------------------------


def test_a_decision_to_create_an_account_creates_it_once_and_records_one_decision(
    admin_user: User,
) -> None:
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)
    context = MappingContext.load()

    first = message_ingest(email("jo@acmecorp.com", "<1@acmecorp.com>"), context)
    second = message_ingest(email("al@acmecorp.com", "<2@acmecorp.com>"), context)

    account = Account.objects.get()
    assert (account.name, account.primary_domain, account.source) == (
        "Acmecorp",
        "acmecorp.com",
        AccountSource.EMAIL,
    )
    assert first is not None and second is not None
    decision = MappingDecision.objects.get(conversation=first)
    assert (decision.method, decision.outcome, decision.account) == (
        MappingMethod.AUTO_CREATE,
        MappingOutcome.CREATED,
        account,
    )
    assert decision.reason == "Created the account Acmecorp for the new domain acmecorp.com."
    assert decision.candidates == [
        {"id": account.pk, "name": "Acmecorp", "via": "new domain acmecorp.com"}
    ]
    assert decision.requester_domain == "acmecorp.com"
    # The second conversation of the domain links to the account the first created.
    later = MappingDecision.objects.get(conversation=second)
    assert (later.method, later.account) == (MappingMethod.EMAIL_DOMAIN, account)
    assert MappingDecision.objects.count() == 2
    first.refresh_from_db()
    assert (first.account, first.mapping_outcome) == (account, MappingOutcome.CREATED)


def test_creating_an_account_that_another_message_just_created_links_to_it(
    admin_user: User,
) -> None:
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)
    incoming = email("jo@acmecorp.com", "<1@acmecorp.com>")
    context = MappingContext.load()
    decided = mapping_resolve(MappingRequest(requester_email=incoming.author_email), context)
    assert decided.create is not None
    # The domain was free when this batch looked it up; another batch created it since.
    winner = make_account("Acmecorp Inc", domain="acmecorp.com")

    conversation = message_ingest(incoming, context)

    assert conversation is not None
    decision = MappingDecision.objects.get()
    assert (decision.conversation, decision.method, decision.outcome, decision.account) == (
        conversation,
        MappingMethod.EMAIL_DOMAIN,
        MappingOutcome.LINKED,
        winner,
    )
    assert decision.reason == "Linked to Acmecorp Inc by primary domain acmecorp.com."
    assert decision.requester_domain == "acmecorp.com"
    assert Account.objects.get() == winner
    # Later conversations of the batch find it without asking the database.
    assert context.account_by_primary_domain("acmecorp.com") == winner


def test_a_decision_is_carried_out_only_once() -> None:
    context = MappingContext(auto_create=True, public_added=[], public_removed=[])
    decided = mapping_resolve(
        MappingRequest(requester_email="jo@acmecorp.com", source=AccountSource.SLACK), context
    )
    conversation = Conversation(source=Source.SLACK, thread_key="t-1")

    with pytest.raises(ValueError, match="mapping_decision_apply"):
        mapping_decisions_record([(conversation, decided)])
    done = mapping_decision_apply(conversation, decided, context)
    again = mapping_decision_apply(conversation, done, context)

    assert done.create is None and again == done
    assert Account.objects.get().source == AccountSource.SLACK
    assert (conversation.account, conversation.mapping_outcome) == (
        done.account,
        MappingOutcome.CREATED,
    )
    assert not MappingDecision.objects.exists()


def test_deciding_a_saved_conversation_again_records_and_stores_the_new_decision(
    admin_user: User,
) -> None:
    incoming = email("jo@initech.example", "<1@initech.example>")
    conversation = message_ingest(incoming, MappingContext.load())
    assert conversation is not None and conversation.account is None
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)

    decision = mapping_decide(
        conversation,
        MappingRequest(requester_email=incoming.author_email),
        MappingContext.load(),
    )

    initech = Account.objects.get()
    assert (decision.outcome, decision.account) == (MappingOutcome.CREATED, initech)
    assert MappingDecision.objects.filter(conversation=conversation).count() == 2
    conversation.refresh_from_db()
    assert (conversation.account, conversation.mapping_method) == (
        initech,
        MappingMethod.AUTO_CREATE,
    )


# --- overrides ---------------------------------------------------------------------------


def test_an_override_keeps_the_history_and_marks_earlier_decisions_overridden(
    admin_api: Client, member_user: User, admin_user: User, betas: tuple[Account, Account]
) -> None:
    beta, labs = betas
    conversation = ticket(admin_api, "jo@beta.example")

    first = mapping_override(actor=member_user, conversation=conversation, account=labs)
    second = mapping_override(actor=admin_user, conversation=conversation, account=None)

    assert (first.previous_account, first.account, first.actor) == (beta, labs, member_user)
    assert (second.previous_account, second.account, second.actor) == (labs, None, admin_user)
    assert second.outcome == MappingOutcome.UNMATCHED
    assert second.reason == "Unlinked by Ada Admin (was Beta Labs)."
    assert first.requester_domain == second.requester_domain == "beta.example"
    history = list(MappingDecision.objects.filter(conversation=conversation).order_by("id"))
    assert [d.method for d in history] == [
        MappingMethod.EMAIL_DOMAIN,
        MappingMethod.MANUAL,
        MappingMethod.MANUAL,
    ]
    assert history[0].overridden and history[1].overridden and not history[2].overridden
    entries = AuditEntry.objects.filter(action="conversation.account").order_by("id")
    assert [e.changes["account"] for e in entries] == [
        {"before": "Beta Inc", "after": "Beta Labs"},
        {"before": "Beta Labs", "after": None},
    ]


# --- conflicts -----------------------------------------------------------------------------


def test_a_conflict_resolves_to_one_of_its_candidates(
    admin_api: Client, member_user: User, betas: tuple[Account, Account]
) -> None:
    beta, labs = betas
    conversation = ticket(admin_api, "jo@shared.example")
    conflict = MappingDecision.objects.get(conversation=conversation)

    decision = mapping_conflict_resolve(actor=member_user, decision=conflict, account=labs)

    assert decision.method == MappingMethod.MANUAL
    assert decision.previous_account is None
    conflict.refresh_from_db()
    assert conflict.resolved and conflict.overridden
    conversation.refresh_from_db()
    assert conversation.account == labs
    assert conversation.requester is not None
    assert conversation.requester.accounts.filter(pk=labs.pk).exists()
    assert mapping_conflicts_open() == ([], 0)


def test_resolving_refuses_other_accounts_resolved_conflicts_and_non_conflicts(
    admin_api: Client, member_user: User, betas: tuple[Account, Account]
) -> None:
    beta, labs = betas
    other = make_account("Gamma", domain="gamma.example")
    conflict = MappingDecision.objects.get(conversation=ticket(admin_api, "jo@shared.example"))
    linked = MappingDecision.objects.get(conversation=ticket(admin_api, "jo@beta.example"))

    with pytest.raises(InvalidInput, match="Gamma is not one of the candidates"):
        mapping_conflict_resolve(actor=member_user, decision=conflict, account=other)
    with pytest.raises(InvalidInput, match="not a conflict"):
        mapping_conflict_resolve(actor=member_user, decision=linked, account=beta)
    mapping_conflict_resolve(actor=member_user, decision=conflict, account=beta)
    with pytest.raises(Conflict, match="already resolved"):
        mapping_conflict_resolve(actor=member_user, decision=conflict, account=labs)


def test_open_conflicts_list_each_candidate_once_under_its_current_name(
    admin_api: Client, betas: tuple[Account, Account], admin_user: User
) -> None:
    beta, labs = betas
    from rapport.accounts.services import account_update
    from rapport.accounts.tests.factories import make_channel

    make_channel("beta-shared", accounts=[beta, labs])
    ticket(admin_api, "jo@shared.example", slack_channel="beta-shared")
    account_update(actor=admin_user, account=labs, name="Beta Laboratories")

    conflicts, count = mapping_conflicts_open()

    assert count == 1
    candidates = conflicts[0].candidates
    assert [(c.name, c.via) for c in candidates] == [
        ("Beta Inc", ["Slack channel #beta-shared", "secondary domain shared.example"]),
        ("Beta Laboratories", ["Slack channel #beta-shared", "secondary domain shared.example"]),
    ]
    assert all(c.exists for c in candidates)


# --- override patterns -----------------------------------------------------------------------


def test_patterns_count_manual_moves_still_in_force_from_domains_the_account_lacks(
    admin_api: Client, member_user: User, betas: tuple[Account, Account]
) -> None:
    beta, labs = betas
    for n in range(3):
        mapping_override(
            actor=member_user, conversation=ticket(admin_api, f"p{n}@beta.io"), account=beta
        )
    # Moved on afterwards: no longer counts for Beta Inc.
    moved_on = ticket(admin_api, "q@beta.io")
    mapping_override(actor=member_user, conversation=moved_on, account=beta)
    mapping_override(actor=member_user, conversation=moved_on, account=labs)
    # Already a (secondary) domain of Beta Labs: no suggestion for it.
    for n in range(2):
        mapping_override(
            actor=member_user, conversation=ticket(admin_api, f"r{n}@shared.example"), account=labs
        )

    patterns = mapping_override_patterns()

    assert [(p.domain, p.account_name, p.count) for p in patterns] == [("beta.io", "Beta Inc", 3)]
    assert [
        (p.domain, p.account_name, p.count) for p in mapping_override_patterns(min_count=1)
    ] == [
        ("beta.io", "Beta Inc", 3),
        ("beta.io", "Beta Labs", 1),
    ]


def test_a_pattern_names_the_account_whose_primary_domain_it_is(
    admin_api: Client, member_user: User, admin_user: User, betas: tuple[Account, Account]
) -> None:
    beta, _ = betas
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)
    for n in range(2):
        conversation = ticket(admin_api, f"p{n}@beta.io")
        mapping_override(actor=member_user, conversation=conversation, account=beta)

    (pattern,) = mapping_override_patterns()

    assert (pattern.domain, pattern.primary_of) == ("beta.io", "Beta")


def test_applying_a_pattern_adds_the_secondary_domain_for_admins_only(
    admin_user: User, member_user: User, betas: tuple[Account, Account]
) -> None:
    beta, _ = betas

    with pytest.raises(PermissionDenied):
        mapping_pattern_apply(actor=member_user, account=beta, domain="beta.io")
    account = mapping_pattern_apply(actor=admin_user, account=beta, domain="BETA.io")

    assert sorted(account.domains.values_list("domain", flat=True)) == [
        "beta.io",
        "shared.example",
    ]
    entry = AuditEntry.objects.filter(action="account.update").latest("id")
    assert entry.changes["secondary_domains"]["after"] == ["beta.io", "shared.example"]
    with pytest.raises(InvalidInput, match="already a domain of Beta Inc"):
        mapping_pattern_apply(actor=admin_user, account=beta, domain="beta.io")
    with pytest.raises(InvalidInput, match="public mail domain"):
        mapping_pattern_apply(actor=admin_user, account=beta, domain="gmail.com")


# --- report aggregates -----------------------------------------------------------------------


def test_decisions_by_day_fill_empty_days_and_split_by_method(
    admin_api: Client, member_user: User, betas: tuple[Account, Account]
) -> None:
    beta, _ = betas
    ticket(admin_api, "a@beta.example")
    old = ticket(admin_api, "b@shared.example")
    mapping_override(actor=member_user, conversation=old, account=beta)
    three_days_ago = timezone.now() - datetime.timedelta(days=3)
    MappingDecision.objects.filter(conversation=old).update(created_at=three_days_ago)

    days = mapping_decisions_by_day(days=7)

    assert len(days) == 7
    assert days[0].day == timezone.localdate()
    methods = [m.value for m in MappingMethod]
    today = dict(zip(methods, days[0].counts, strict=True))
    earlier = dict(zip(methods, days[3].counts, strict=True))
    assert today[MappingMethod.EMAIL_DOMAIN] == 1 and days[0].total == 1
    assert earlier[MappingMethod.EMAIL_DOMAIN] == 1 and earlier[MappingMethod.MANUAL] == 1
    assert sum(d.total for d in days) == 3
    # The busiest day's bar fills the width.
    assert sum(s.width for s in days[3].segments) == pytest.approx(100)


def test_the_automatic_share_counts_only_links_nobody_changed(
    admin_api: Client, member_user: User, betas: tuple[Account, Account]
) -> None:
    beta, labs = betas
    ticket(admin_api, "a@beta.example")
    ticket(admin_api, "b@betalabs.example")
    ticket(admin_api, "c@shared.example")
    ticket(admin_api, "d@gmail.com")
    mapping_override(
        actor=member_user, conversation=ticket(admin_api, "e@beta.example"), account=labs
    )

    share = mapping_automatic_share(since=timezone.now() - datetime.timedelta(days=1))

    assert (share.total, share.automatic, share.overridden) == (5, 2, 1)
    assert (share.conflicts, share.unmatched, share.percent) == (1, 1, 40)


# --- settings ----------------------------------------------------------------------------


def test_settings_are_normalized_audited_and_admin_only(
    admin_user: User, member_user: User
) -> None:
    with pytest.raises(PermissionDenied):
        mapping_settings_update(actor=member_user, auto_create_accounts=True)

    settings = mapping_settings_update(
        actor=admin_user,
        auto_create_accounts=True,
        public_domains_added=["Mail.Example", "mail.example", "www.other.example"],
    )

    assert settings.public_domains_added == ["mail.example", "other.example"]
    assert mapping_settings_get().auto_create_accounts
    entry = AuditEntry.objects.get(action="mapping.settings")
    assert entry.changes["auto_create_accounts"] == {"before": False, "after": True}


def test_public_domain_check_explains_each_source(admin_user: User) -> None:
    mapping_settings_update(
        actor=admin_user, public_domains_added=["corp.example"], public_domains_removed=["gmx.de"]
    )

    assert public_domain_check("gmail.com").public
    assert public_domain_check("x.corp.example").why == (
        "An admin added corp.example to the public domains "
        "(through its parent domain corp.example)."
    )
    assert not public_domain_check("gmx.de").public
    assert not public_domain_check("jo@acme.example").public
    with pytest.raises(InvalidInput):
        public_domain_check("not a domain")

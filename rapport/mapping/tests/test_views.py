"""The mapping report and settings pages, through Django's test client.

Conversations come in through `POST /api/v1/tickets` with a bearer token, which runs the
whole ingest path inline.
"""

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Conversation
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome
from rapport.mapping.services import mapping_override, mapping_settings_update
from rapport.users.models import User

pytestmark = pytest.mark.django_db

REPORT = reverse("mapping:report")
SETTINGS = reverse("mapping:settings")
HTMX = {"HX-Request": "true"}


def _text(response: Any) -> str:
    return response.content.decode()


def ticket(api: Client, email: str, subject: str = "Help", **fields: Any) -> Conversation:
    payload = {"requester_email": email, "subject": subject} | fields
    response = api.post("/api/v1/tickets", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    return Conversation.objects.get(pk=response.json()["id"])


@pytest.fixture
def betas(db: None) -> tuple[Account, Account]:
    """Two accounts sharing a secondary domain: mail from it is a conflict."""
    return (
        make_account("Beta Inc", domain="beta.example", secondary_domains=["shared.example"]),
        make_account("Beta Labs", domain="betalabs.example", secondary_domains=["shared.example"]),
    )


# --- report ------------------------------------------------------------------------------


def test_report_counts_todays_decisions_by_method_and_the_automatic_share(
    member_client: Client, admin_api: Client, admin_user: User, betas: tuple[Account, Account]
) -> None:
    beta, _ = betas
    ticket(admin_api, "a@beta.example")
    ticket(admin_api, "b@beta.example")
    ticket(admin_api, "c@gmail.com")
    moved = ticket(admin_api, "d@beta.example")
    mapping_override(actor=admin_user, conversation=moved, account=None)

    response = member_client.get(REPORT)

    assert response.status_code == 200
    html = _text(response)
    assert "Decisions by method, last 30 days" in html
    today = re.search(r'<th scope="row" class="day">[^<]+</th>(.*?)</tr>', html, re.S)
    assert today is not None
    cells = re.findall(r'<td class="num">(?:<strong>)?(\d+)', today.group(1))
    # Email domain 4 (three linked, one public), manual 1, total 5.
    assert cells == ["4", "1", "5"]
    assert 'class="seg seg-email_domain"' in html
    # 2 of 4 conversations were linked automatically and kept: 50%.
    assert '<p class="big-number">50%</p>' in html
    assert 'href="/mapping/" class="active" aria-current="page">Mapping<' in html


def test_a_conflict_is_listed_with_its_candidates_and_resolved_in_one_click(
    member_client: Client, admin_api: Client, member_user: User, betas: tuple[Account, Account]
) -> None:
    beta, labs = betas
    conversation = ticket(admin_api, "jo@shared.example", "Which Beta?")
    conflict = MappingDecision.objects.get(conversation=conversation)
    assert conflict.outcome == MappingOutcome.CONFLICT

    report = _text(member_client.get(REPORT))
    assert "Which Beta?" in report
    assert "Link to Beta Inc</button>" in report and "Link to Beta Labs</button>" in report

    response = member_client.post(
        reverse("mapping:conflict_resolve", args=[conflict.pk]),
        {"account": labs.pk},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert 'class="row-resolved"' in _text(response)
    assert "is now linked to" in _text(response) and "Beta Labs" in _text(response)
    conversation.refresh_from_db()
    assert conversation.account == labs
    conflict.refresh_from_db()
    assert conflict.resolved
    manual = MappingDecision.objects.get(conversation=conversation, method=MappingMethod.MANUAL)
    assert manual.actor == member_user
    assert "Which Beta?" not in _text(member_client.get(REPORT))


def test_a_conflict_resolved_without_htmx_comes_back_to_the_report(
    member_client: Client, admin_api: Client, betas: tuple[Account, Account]
) -> None:
    beta, _ = betas
    conversation = ticket(admin_api, "jo@shared.example", "Which Beta?")
    conflict = MappingDecision.objects.get(conversation=conversation)

    response = member_client.post(
        reverse("mapping:conflict_resolve", args=[conflict.pk]), {"account": beta.pk}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{REPORT}#conflicts"
    page = _text(member_client.get(response["Location"]))
    assert "Resolved: “Which Beta?” is now linked to Beta Inc." in page
    assert "No open conflicts" in page


def test_a_conflict_cannot_be_resolved_to_an_account_that_was_no_candidate(
    member_client: Client, admin_api: Client, betas: tuple[Account, Account]
) -> None:
    other = make_account("Gamma", domain="gamma.example")
    conflict = MappingDecision.objects.get(
        conversation=ticket(admin_api, "jo@shared.example", "Which Beta?")
    )

    response = member_client.post(
        reverse("mapping:conflict_resolve", args=[conflict.pk]),
        {"account": other.pk},
        headers=HTMX,
    )

    assert response.status_code == 400
    assert "Gamma is not one of the candidates of this conflict." in _text(response)
    conflict.refresh_from_db()
    assert not conflict.resolved


def test_resolving_a_conflict_twice_says_it_is_already_resolved(
    member_client: Client, admin_api: Client, betas: tuple[Account, Account]
) -> None:
    beta, labs = betas
    conflict = MappingDecision.objects.get(
        conversation=ticket(admin_api, "jo@shared.example", "Which Beta?")
    )
    url = reverse("mapping:conflict_resolve", args=[conflict.pk])
    member_client.post(url, {"account": beta.pk})

    response = member_client.post(url, {"account": labs.pk}, headers=HTMX)

    assert response.status_code == 409
    assert "already resolved" in _text(response)
    assert Conversation.objects.get(pk=conflict.conversation_id).account == beta


def test_resolving_an_unknown_conflict_is_404(member_client: Client) -> None:
    response = member_client.post(reverse("mapping:conflict_resolve", args=[999999]), {})
    assert response.status_code == 404


def _move_twice(api: Client, actor: User, domain: str, account: Account) -> None:
    for n in range(2):
        mapping_override(
            actor=actor,
            conversation=ticket(api, f"p{n}@{domain}", f"From {domain}"),
            account=account,
        )


def test_an_override_pattern_is_applied_in_one_click_and_later_mail_links_by_it(
    admin_client: Client, admin_api: Client, member_user: User, db: None
) -> None:
    beta = make_account("Beta Inc", domain="beta.example")
    _move_twice(admin_api, member_user, "beta.io", beta)

    report = _text(admin_client.get(REPORT))
    assert "2 conversations</strong> from" in report and "beta.io" in report
    assert "Add beta.io as a secondary domain of Beta Inc</button>" in report

    response = admin_client.post(
        reverse("mapping:pattern_apply"),
        {"domain": "beta.io", "account": beta.pk},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "beta.io is now a secondary domain of" in _text(response)
    assert list(beta.domains.values_list("domain", flat=True)) == ["beta.io"]
    assert "Add beta.io as a secondary domain" not in _text(admin_client.get(REPORT))
    later = ticket(admin_api, "new@beta.io", "Another one")
    assert later.account == beta
    assert MappingDecision.objects.get(conversation=later).reason == (
        "Linked to Beta Inc by secondary domain beta.io."
    )


def test_a_member_sees_override_patterns_but_cannot_apply_them(
    member_client: Client, admin_api: Client, member_user: User, db: None
) -> None:
    beta = make_account("Beta Inc", domain="beta.example")
    _move_twice(admin_api, member_user, "beta.io", beta)

    report = _text(member_client.get(REPORT))
    response = member_client.post(
        reverse("mapping:pattern_apply"), {"domain": "beta.io", "account": beta.pk}
    )

    assert "An admin can add beta.io as a secondary domain of Beta Inc." in report
    assert response.status_code == 403
    assert not beta.domains.exists()


def test_a_single_move_or_a_public_domain_makes_no_pattern(
    admin_client: Client, admin_api: Client, member_user: User, db: None
) -> None:
    beta = make_account("Beta Inc", domain="beta.example")
    mapping_override(actor=member_user, conversation=ticket(admin_api, "one@beta.io"), account=beta)
    _move_twice(admin_api, member_user, "gmail.com", beta)

    report = _text(admin_client.get(REPORT))

    assert "No pattern yet." in report


def test_the_report_issues_a_constant_number_of_queries(
    member_client: Client,
    admin_api: Client,
    member_user: User,
    betas: tuple[Account, Account],
    django_assert_num_queries: Any,
) -> None:
    beta, _ = betas
    ticket(admin_api, "a@shared.example")
    _move_twice(admin_api, member_user, "beta.io", beta)
    with CaptureQueriesContext(connection) as few:
        member_client.get(REPORT)
    expected = len(few)
    for n in range(6):
        ticket(admin_api, f"x{n}@shared.example")
        ticket(admin_api, f"y{n}@nowhere{n}.example")
    gamma = make_account("Gamma", domain="gamma.example")
    _move_twice(admin_api, member_user, "gamma.io", gamma)

    with django_assert_num_queries(expected):
        response = member_client.get(REPORT)
    assert _text(response).count("Link to Beta Labs</button>") == 7


# --- settings ----------------------------------------------------------------------------


def test_settings_are_for_admins_only(member_client: Client, admin_client: Client) -> None:
    assert member_client.get(SETTINGS).status_code == 403
    assert member_client.post(SETTINGS, {"auto_create_accounts": "on"}).status_code == 403
    page = admin_client.get(SETTINGS)
    assert page.status_code == 200
    assert "Create an account for a new company domain" in _text(page)


def test_an_admin_turns_on_automatic_creation(
    admin_client: Client, admin_api: Client, db: None
) -> None:
    response = admin_client.post(SETTINGS, {"auto_create_accounts": "on"})

    assert response.status_code == 302
    conversation = ticket(admin_api, "jo@brandnew.example")
    assert conversation.account is not None
    assert conversation.account.name == "Brandnew"
    assert conversation.mapping_outcome == MappingOutcome.CREATED


def test_a_public_domain_added_by_an_admin_stops_linking_and_creation(
    admin_client: Client, admin_api: Client, db: None
) -> None:
    make_account("Corp Mail", domain="corpmail.example")
    response = admin_client.post(
        SETTINGS,
        {"auto_create_accounts": "on", "public_domains_added": "corpmail.example\nfreebox.example"},
    )
    assert response.status_code == 302

    linked = ticket(admin_api, "jo@corpmail.example")
    created = ticket(admin_api, "al@freebox.example")

    for conversation in (linked, created):
        assert conversation.account is None
        assert conversation.mapping_outcome == MappingOutcome.UNMATCHED
    assert "is a public email domain" in MappingDecision.objects.get(conversation=linked).reason
    assert not Account.objects.filter(primary_domain="freebox.example").exists()


def test_a_public_domain_removed_by_an_admin_is_no_longer_public(
    admin_client: Client, admin_api: Client, db: None
) -> None:
    # A public domain cannot be a primary domain until an admin says it is no longer public.
    admin_client.post(SETTINGS, {"public_domains_removed": "yahoo.com"})
    yahoo = make_account("Yahoo", domain="yahoo.com")

    conversation = ticket(admin_api, "jo@yahoo.com")
    lookup = _text(admin_client.get(SETTINGS, {"domain": "yahoo.com"}))

    assert conversation.account == yahoo
    assert "yahoo.com is not public." in lookup
    assert "An admin removed yahoo.com from the public domains." in lookup


@pytest.mark.parametrize(
    ("domain", "answer"),
    [
        ("gmail.com", "gmail.com is public.</strong> gmail.com is in the maintained list"),
        ("jo@eu.gmail.com", "(through its parent domain gmail.com)"),
        ("acme.example", "acme.example is not public.</strong> It is neither"),
        ("not a domain!", 'class="alert alert-error"'),
    ],
)
def test_the_lookup_says_whether_a_domain_is_public_and_why(
    admin_client: Client, domain: str, answer: str
) -> None:
    assert answer in _text(admin_client.get(SETTINGS, {"domain": domain}))


def test_invalid_public_domains_are_refused_and_nothing_changes(admin_client: Client) -> None:
    response = admin_client.post(SETTINGS, {"public_domains_added": "good.example, bad_domain!"})

    assert response.status_code == 400
    assert 'class="alert alert-error"' in _text(response)
    from rapport.mapping.selectors import mapping_settings_get

    assert mapping_settings_get().public_domains_added == []


def test_saved_settings_show_in_the_form(admin_client: Client, admin_user: User) -> None:
    mapping_settings_update(
        actor=admin_user, auto_create_accounts=True, public_domains_added=["b.example", "a.example"]
    )

    html = _text(admin_client.get(SETTINGS))

    assert re.search(r'<input type="checkbox" name="auto_create_accounts"[^>]* checked', html)
    assert "a.example\nb.example</textarea>" in html

"""The inbox: the conversation list, its filters, pages and cost."""

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_channel
from rapport.inbox.models import Conversation
from rapport.inbox.tests.kit import HTMX, page_text, ticket

pytestmark = pytest.mark.django_db

INBOX = reverse("inbox:list")


def _rows(response: Any) -> list[str]:
    """Return the conversation titles in the inbox table, in order."""
    return re.findall(
        r'class="conversation-link" href="/inbox/\d+/">([^<]+)</a>', page_text(response)
    )


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client) -> None:
    response = client.get(INBOX)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_inbox_lists_conversations_newest_activity_first_with_their_mapping(
    member_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    ticket(admin_api, "jo@acme.example", "Export fails")
    ticket(admin_api, "al@nowhere.example", "Where is my invoice")
    ticket(admin_api, "kim@globex.example", "SSO setup")

    response = member_client.get(INBOX)

    assert response.status_code == 200
    assert _rows(response) == ["SSO setup", "Where is my invoice", "Export fails"]
    html = page_text(response)
    assert "kim@globex.example" in html
    assert 'class="account-link" href="/accounts/' in html
    assert "Globex" in html and "Acme" in html
    assert 'class="badge outcome-linked">Linked<' in html
    assert 'class="badge outcome-unmatched">Unmatched<' in html
    assert "1–3</strong> of 3 conversations" in html
    # The navigation marks the inbox as the current page.
    assert 'href="/inbox/" class="active" aria-current="page">Inbox<' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=invoice", ["Where is my invoice"]),
        ("q=JO%40ACME", ["Export fails"]),
        ("outcome=unmatched", ["Where is my invoice"]),
        ("unlinked=yes", ["Where is my invoice"]),
        ("source=email", []),
        ("source=api&outcome=linked", ["SSO setup", "Export fails"]),
    ],
)
def test_inbox_filters_narrow_the_list(
    member_client: Client,
    admin_api: Client,
    accounts: dict[str, Account],
    query: str,
    expected: list[str],
) -> None:
    ticket(admin_api, "jo@acme.example", "Export fails")
    ticket(admin_api, "al@nowhere.example", "Where is my invoice")
    ticket(admin_api, "kim@globex.example", "SSO setup")

    response = member_client.get(f"{INBOX}?{query}")

    assert response.status_code == 200
    assert _rows(response) == expected
    assert "filtered" in page_text(response)


def test_inbox_filters_by_account_and_shows_the_account_as_a_removable_chip(
    member_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    ticket(admin_api, "jo@acme.example", "Export fails")
    ticket(admin_api, "kim@globex.example", "SSO setup")
    acme = accounts["acme"]

    response = member_client.get(f"{INBOX}?account={acme.pk}")

    assert _rows(response) == ["Export fails"]
    assert 'class="chip chip-picked">Acme <a href="/inbox/"' in page_text(response)


def test_inbox_filters_by_slack_channel(
    member_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("acme-support", accounts=[accounts["acme"]])
    ticket(admin_api, "jo@somewhere.example", "From Slack", slack_channel="acme-support")
    ticket(admin_api, "kim@globex.example", "SSO setup")

    response = member_client.get(f"{INBOX}?channel={channel.pk}")

    assert _rows(response) == ["From Slack"]
    assert "#acme-support" in page_text(response)


def test_htmx_filtering_answers_the_results_and_pushes_a_clean_url(
    member_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    ticket(admin_api, "al@nowhere.example", "Where is my invoice")

    response = member_client.get(f"{INBOX}?q=invoice&source=&outcome=", headers=HTMX)

    assert response.status_code == 200
    html = page_text(response)
    assert html.lstrip().startswith('<section id="inbox-results"')
    assert "<html" not in html
    assert response["HX-Push-Url"] == "/inbox/?q=invoice"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("outcome=lost", "outcome must be one of linked, created, conflict, unmatched, not"),
        ("account=x", "account must be an id, not"),
        ("unlinked=maybe", "unlinked must be yes or no."),
        ("page=0", "page must be a whole number from 1"),
    ],
)
def test_a_bad_filter_is_explained_not_a_crash(
    member_client: Client, query: str, message: str
) -> None:
    response = member_client.get(f"{INBOX}?{query}")
    assert response.status_code == 400
    assert message in page_text(response)


def test_inbox_pages_through_conversations(
    member_client: Client, admin_api: Client, accounts: dict[str, Account], monkeypatch: Any
) -> None:
    monkeypatch.setattr("rapport.inbox.views.PAGE_SIZE", 2)
    for n in range(5):
        ticket(admin_api, "jo@acme.example", f"Question {n}")

    first = member_client.get(INBOX)
    last = member_client.get(f"{INBOX}?page=3")

    assert _rows(first) == ["Question 4", "Question 3"]
    assert 'rel="next" href="/inbox/?page=2"' in page_text(first)
    assert _rows(last) == ["Question 0"]
    assert "Page 3 of 3" in page_text(last)


def test_inbox_issues_the_same_number_of_queries_for_3_or_15_conversations(
    member_client: Client,
    admin_api: Client,
    accounts: dict[str, Account],
    django_assert_num_queries: Any,
) -> None:
    channel = make_channel("acme-support", accounts=[accounts["acme"]])
    urls = [
        INBOX,
        f"{INBOX}?account={accounts['acme'].pk}&q=example",
        f"{INBOX}?channel={channel.pk}",
    ]
    for n in range(3):
        ticket(admin_api, f"p{n}@acme.example", f"Few {n}", slack_channel="acme-support")
    expected = []
    for url in urls:
        with CaptureQueriesContext(connection) as few:
            assert member_client.get(url).status_code == 200
        # Count now: the captured slice is read lazily from a log later requests reset.
        expected.append(len(few))
    for n in range(12):
        email = f"p{n}@{'globex' if n % 2 else 'acme'}.example"
        ticket(admin_api, email, f"Many {n}", slack_channel="acme-support" if n % 3 else "")
    assert Conversation.objects.count() == 15
    assert channel.conversations.count() > 3

    for url, count in zip(urls, expected, strict=True):
        with django_assert_num_queries(count):
            response = member_client.get(url)
        assert len(_rows(response)) > 3
        with django_assert_num_queries(count - 1):  # htmx: no channel options
            member_client.get(url, headers=HTMX)

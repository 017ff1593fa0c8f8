"""The inbox web UI: the conversation list, a conversation's page, the Slack channels page.

Conversations come in through the real ingest path: `POST /api/v1/tickets` with a bearer
token, or a raw email to `POST /api/v1/inbound/email`; both process inline.
"""

import datetime
import re
from email.message import EmailMessage
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import Account, Contact
from rapport.accounts.tests.factories import make_account, make_channel
from rapport.audit.selectors import audit_entries_for
from rapport.inbox.adapters import IncomingMessage
from rapport.inbox.batch import message_ingest
from rapport.inbox.models import Conversation, Message, MessageDirection, Source
from rapport.mapping.engine import MappingContext
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome
from rapport.users.models import User

pytestmark = pytest.mark.django_db

INBOX = reverse("inbox:list")
HTMX = {"HX-Request": "true"}


def _text(response: Any) -> str:
    return response.content.decode()


def ticket(api: Client, email: str, subject: str = "", **fields: Any) -> Conversation:
    """Open a conversation through `POST /api/v1/tickets`; return it."""
    payload = {"requester_email": email, "subject": subject, "body": f"Body of {subject}"}
    response = api.post("/api/v1/tickets", payload | fields, content_type="application/json")
    assert response.status_code == 201, response.content
    return Conversation.objects.get(pk=response.json()["id"])


def raw_email(
    sender: str,
    subject: str,
    body: str,
    *,
    message_id: str,
    in_reply_to: str = "",
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@rapport.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    message.set_content(body)
    if attachment:
        message.add_attachment(
            attachment[1], maintype="application", subtype="pdf", filename=attachment[0]
        )
    return bytes(message)


def send_email(api: Client, raw: bytes) -> int:
    response = api.generic("POST", "/api/v1/inbound/email", raw, content_type="message/rfc822")
    assert response.status_code == 202, response.content
    return int(response.json()["conversation_id"])


def _rows(response: Any) -> list[str]:
    """Return the conversation titles in the inbox table, in order."""
    return re.findall(r'class="conversation-link" href="/inbox/\d+/">([^<]+)</a>', _text(response))


@pytest.fixture
def accounts(db: None) -> dict[str, Account]:
    return {
        "acme": make_account("Acme", domain="acme.example"),
        "globex": make_account("Globex", domain="globex.example"),
    }


# --- inbox -------------------------------------------------------------------------------


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
    html = _text(response)
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
    assert "filtered" in _text(response)


def test_inbox_filters_by_account_and_shows_the_account_as_a_removable_chip(
    member_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    ticket(admin_api, "jo@acme.example", "Export fails")
    ticket(admin_api, "kim@globex.example", "SSO setup")
    acme = accounts["acme"]

    response = member_client.get(f"{INBOX}?account={acme.pk}")

    assert _rows(response) == ["Export fails"]
    assert 'class="chip chip-picked">Acme <a href="/inbox/"' in _text(response)


def test_inbox_filters_by_slack_channel(
    member_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("acme-support", accounts=[accounts["acme"]])
    ticket(admin_api, "jo@somewhere.example", "From Slack", slack_channel="acme-support")
    ticket(admin_api, "kim@globex.example", "SSO setup")

    response = member_client.get(f"{INBOX}?channel={channel.pk}")

    assert _rows(response) == ["From Slack"]
    assert "#acme-support" in _text(response)


def test_htmx_filtering_answers_the_results_and_pushes_a_clean_url(
    member_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    ticket(admin_api, "al@nowhere.example", "Where is my invoice")

    response = member_client.get(f"{INBOX}?q=invoice&source=&outcome=", headers=HTMX)

    assert response.status_code == 200
    html = _text(response)
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
    assert message in _text(response)


def test_inbox_pages_through_conversations(
    member_client: Client, admin_api: Client, accounts: dict[str, Account], monkeypatch: Any
) -> None:
    monkeypatch.setattr("rapport.inbox.views.PAGE_SIZE", 2)
    for n in range(5):
        ticket(admin_api, "jo@acme.example", f"Question {n}")

    first = member_client.get(INBOX)
    last = member_client.get(f"{INBOX}?page=3")

    assert _rows(first) == ["Question 4", "Question 3"]
    assert 'rel="next" href="/inbox/?page=2"' in _text(first)
    assert _rows(last) == ["Question 0"]
    assert "Page 3 of 3" in _text(last)


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


# --- a conversation ----------------------------------------------------------------------


def test_conversation_page_shows_messages_in_order_with_marks_and_attachments(
    member_client: Client, admin_api: Client, member_user: User, accounts: dict[str, Account]
) -> None:
    root = "root-1@acme.example"
    conversation_id = send_email(
        admin_api,
        raw_email(
            "Jo Customer <jo@acme.example>",
            "Invoice is wrong",
            "The total on invoice 42 is wrong.",
            message_id=root,
            attachment=("invoice-42.pdf", b"%PDF-1.4 test"),
        ),
    )
    send_email(
        admin_api,
        raw_email(
            f"Max <{member_user.email}>",
            "Re: Invoice is wrong",
            "Looking into it now.",
            message_id="reply-1@rapport.test",
            in_reply_to=root,
        ),
    )
    later = timezone.now() + datetime.timedelta(minutes=5)
    message_ingest(
        IncomingMessage(
            source=Source.EMAIL,
            external_id=root,
            thread_key=root,
            text="The total on invoice 42 is wrong (edited).",
            sent_at=later,
            action="edit",
        ),
        MappingContext.load(),
    )
    message_ingest(
        IncomingMessage(
            source=Source.EMAIL,
            external_id="reply-1@rapport.test",
            thread_key=root,
            text="",
            sent_at=later,
            action="delete",
        ),
        MappingContext.load(),
    )

    response = member_client.get(reverse("inbox:conversation", args=[conversation_id]))

    assert response.status_code == 200
    html = _text(response)
    assert html.index("invoice 42 is wrong (edited)") < html.index("Looking into it now.")
    assert 'class="message message-inbound"' in html
    assert 'class="message message-outbound message-deleted"' in html
    assert ">edited</span>" in html and ">deleted</span>" in html
    assert "invoice-42.pdf" in html and "application/pdf" in html
    assert "jo@acme.example" in html
    # The decision in force, with its reason and candidates.
    assert "Linked to Acme by primary domain acme.example." in html
    assert "primary domain acme.example</span>" in html
    assert 'href="/accounts/{}/"'.format(accounts["acme"].pk) in html


def test_conversation_page_is_404_for_an_unknown_id(member_client: Client) -> None:
    assert member_client.get(reverse("inbox:conversation", args=[999999])).status_code == 404


def test_conversation_page_lists_the_candidates_of_a_conflict_to_pick_from(
    member_client: Client, admin_api: Client
) -> None:
    make_account("Beta Inc", domain="beta.example", secondary_domains=["shared.example"])
    make_account("Beta Labs", domain="betalabs.example", secondary_domains=["shared.example"])
    conversation = ticket(admin_api, "jo@shared.example", "Which Beta?")

    html = _text(member_client.get(conversation.get_absolute_url()))

    assert "Not linked: shared.example is a secondary domain of Beta Inc and Beta Labs." in html
    assert html.count('type="radio" name="account"') == 2
    assert 'class="badge outcome-conflict">Conflict<' in html


def test_a_member_moves_a_conversation_and_the_history_and_audit_record_it(
    member_client: Client, admin_api: Client, member_user: User, accounts: dict[str, Account]
) -> None:
    acme, globex = accounts["acme"], accounts["globex"]
    conversation = ticket(admin_api, "jo@acme.example", "Wrong account")

    response = member_client.post(
        reverse("inbox:conversation_account", args=[conversation.pk]), {"account": globex.pk}
    )

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.account == globex
    assert conversation.mapping_method == MappingMethod.MANUAL
    manual = MappingDecision.objects.get(conversation=conversation, method=MappingMethod.MANUAL)
    assert (manual.actor, manual.previous_account, manual.account) == (member_user, acme, globex)
    automatic = MappingDecision.objects.get(
        conversation=conversation, method=MappingMethod.EMAIL_DOMAIN
    )
    assert automatic.overridden
    # The requester becomes a contact of the account the conversation moved to.
    assert Contact.objects.get(email="jo@acme.example").accounts.filter(pk=globex.pk).exists()
    entry = audit_entries_for(conversation).get()
    assert entry.actor == member_user
    assert entry.changes == {"account": {"before": "Acme", "after": "Globex"}}

    html = _text(member_client.get(response["Location"]))
    assert "Moved the conversation to Globex." in html
    assert "Max Member</strong>\n            moved the conversation" in html
    assert '<span class="before">Acme</span>' in html
    assert '<span class="after">Globex</span>' in html
    assert "mapped the conversation automatically" in html
    assert ">overridden</span>" in html


def test_a_member_unlinks_a_conversation(
    member_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    conversation = ticket(admin_api, "jo@acme.example", "Not a customer")

    response = member_client.post(
        reverse("inbox:conversation_account", args=[conversation.pk]), {"unlink": "1"}
    )

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.account is None
    assert conversation.mapping_outcome == MappingOutcome.UNMATCHED
    assert "Unlinked by Max Member (was Acme)." in _text(member_client.get(response["Location"]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose the account to link the conversation to."),
        ({"account": "abc"}, "account must be an id"),
        ({"account": "999999"}, "No account with id 999999."),
    ],
)
def test_an_override_without_a_valid_account_is_refused(
    member_client: Client,
    admin_api: Client,
    accounts: dict[str, Account],
    data: dict[str, str],
    message: str,
) -> None:
    conversation = ticket(admin_api, "jo@acme.example", "Hello")

    response = member_client.post(
        reverse("inbox:conversation_account", args=[conversation.pk]), data
    )

    assert response.status_code == 400
    assert message in _text(response)
    assert not MappingDecision.objects.filter(method=MappingMethod.MANUAL).exists()


def test_moving_a_conversation_to_its_own_account_says_so(
    member_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    conversation = ticket(admin_api, "jo@acme.example", "Hello")

    response = member_client.post(
        reverse("inbox:conversation_account", args=[conversation.pk]),
        {"account": accounts["acme"].pk},
    )

    assert response.status_code == 400
    assert "already linked to Acme" in _text(response)


def test_the_account_search_finds_accounts_to_pick_or_to_filter_by(
    member_client: Client, accounts: dict[str, Account]
) -> None:
    url = reverse("inbox:account_search")

    pick = _text(member_client.get(url, {"account_q": "glob"}, headers=HTMX))
    filter_links = _text(
        member_client.get(
            url, {"account_q": "acme.example", "mode": "filter", "q": "hi"}, headers=HTMX
        )
    )
    nothing = _text(member_client.get(url, {"account_q": "zzz"}, headers=HTMX))

    assert f'type="radio" name="account" value="{accounts["globex"].pk}"' in pick
    assert "Acme" not in pick
    assert f'href="/inbox/?q=hi&amp;account={accounts["acme"].pk}"' in filter_links
    assert "No account matches “zzz”." in nothing


def test_the_override_search_works_without_javascript(
    member_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    conversation = ticket(admin_api, "jo@acme.example", "Hello")

    html = _text(member_client.get(conversation.get_absolute_url(), {"account_q": "globex"}))

    assert f'name="account" value="{accounts["globex"].pk}"' in html


def test_a_member_replies_from_the_conversation_page(
    member_client: Client, admin_api: Client, member_user: User, accounts: dict[str, Account]
) -> None:
    conversation = ticket(admin_api, "jo@acme.example", "Hello")

    response = member_client.post(
        reverse("inbox:conversation_reply", args=[conversation.pk]), {"text": "On it!"}
    )
    empty = member_client.post(
        reverse("inbox:conversation_reply", args=[conversation.pk]), {"text": "  "}
    )

    assert response.status_code == 302
    reply = Message.objects.get(conversation=conversation, direction=MessageDirection.OUTBOUND)
    assert (reply.text, reply.author_user) == ("On it!", member_user)
    assert empty.status_code == 400
    assert "Write a reply first." in _text(empty)


# --- Slack channels --------------------------------------------------------------------------


def test_channels_page_lists_channels_with_their_accounts(
    member_client: Client, accounts: dict[str, Account]
) -> None:
    make_channel("shared-acme-globex", accounts=[accounts["acme"], accounts["globex"]])

    response = member_client.get(reverse("inbox:channels"))

    assert response.status_code == 200
    html = _text(response)
    assert "#shared-acme-globex" in html
    assert ">Acme</a>" in html and ">Globex</a>" in html
    assert "Change accounts" not in html  # members see the links but cannot change them


def test_an_admin_links_a_channel_and_later_messages_there_link_by_channel(
    admin_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("ext-acme")

    page = _text(admin_client.get(reverse("inbox:channels")))
    response = admin_client.post(
        reverse("inbox:channel_accounts", args=[channel.pk]), {"account": [accounts["acme"].pk]}
    )
    conversation = ticket(admin_api, "someone@gmail.com", "Via Slack", slack_channel="ext-acme")

    assert "Change accounts" in page
    assert response.status_code == 302
    assert list(channel.accounts.all()) == [accounts["acme"]]
    assert conversation.account == accounts["acme"]
    assert conversation.mapping_method == MappingMethod.SLACK_CHANNEL


def test_an_admin_unlinks_every_account_of_a_channel(
    admin_client: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("ext-acme", accounts=[accounts["acme"]])

    response = admin_client.post(reverse("inbox:channel_accounts", args=[channel.pk]), {})

    assert response.status_code == 302
    assert not channel.accounts.exists()


def test_a_member_cannot_link_a_channel(
    member_client: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("ext-acme")

    response = member_client.post(
        reverse("inbox:channel_accounts", args=[channel.pk]), {"account": [accounts["acme"].pk]}
    )

    assert response.status_code == 403
    assert not channel.accounts.exists()


def test_linking_a_channel_to_an_unknown_account_is_refused(
    admin_client: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("ext-acme")

    response = admin_client.post(
        reverse("inbox:channel_accounts", args=[channel.pk]), {"account": ["999999"]}
    )

    assert response.status_code == 400
    assert "No account with id 999999." in _text(response)
    assert not channel.accounts.exists()


def test_a_customer_message_that_is_not_a_request_is_assigned_from_the_conversation_page(
    member_client: Client, member_user: User
) -> None:
    from rapport.requests.models import Request, RequestOrigin
    from rapport.requests.triage import triage_pending

    message_ingest(
        IncomingMessage(
            source=Source.EMAIL,
            external_id="<fyi-1@globex.example>",
            thread_key="<fyi-1@globex.example>",
            text="FYI we are rolling out to the EU team next week.",
            subject="Rollout",
            sent_at=timezone.now(),
            author_email="sam@globex.example",
            author_name="Sam",
        ),
        MappingContext.load(),
    )
    triage_pending()
    assert not Request.objects.exists()
    message = Message.objects.get(external_id="<fyi-1@globex.example>")
    page = member_client.get(reverse("inbox:conversation", args=[message.conversation_id]))
    assert "Not a request. Assign to" in page.content.decode()

    answer = member_client.post(
        reverse("inbox:message_assign", args=[message.pk]), {"assignee": member_user.pk}
    )
    assert answer.status_code == 302
    request = Request.objects.get()
    assert request.origin == RequestOrigin.ASSIGNED
    assert request.assignee == member_user
    page = member_client.get(reverse("inbox:conversation", args=[message.conversation_id]))
    assert f"Request #{request.pk}" in page.content.decode()


def test_assigning_a_message_to_nobody_is_refused_and_creates_nothing(
    member_client: Client,
) -> None:
    from rapport.requests.models import Request

    conversation = message_ingest(
        IncomingMessage(
            source=Source.EMAIL,
            external_id="<fyi-2@globex.example>",
            thread_key="<fyi-2@globex.example>",
            text="Noted.",
            sent_at=timezone.now(),
            author_email="sam@globex.example",
        ),
        MappingContext.load(),
    )
    assert conversation is not None
    message = Message.objects.get(external_id="<fyi-2@globex.example>")
    answer = member_client.post(
        reverse("inbox:message_assign", args=[message.pk]), {"assignee": ""}
    )
    assert answer.status_code == 400
    assert "Choose the member" in answer.content.decode()
    assert not Request.objects.exists()

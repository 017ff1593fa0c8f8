"""A conversation's page: its messages, moving it to an account, replies, assigning."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import Account, Contact
from rapport.accounts.tests.factories import make_account
from rapport.audit.selectors import audit_entries_for
from rapport.inbox.adapters import IncomingMessage
from rapport.inbox.batch import message_ingest
from rapport.inbox.models import Message, MessageDirection, Source
from rapport.inbox.tests.kit import HTMX, page_text, raw_email, send_email, ticket
from rapport.mapping.engine import MappingContext
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome
from rapport.users.models import User

pytestmark = pytest.mark.django_db


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
    html = page_text(response)
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

    html = page_text(member_client.get(conversation.get_absolute_url()))

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

    html = page_text(member_client.get(response["Location"]))
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
    assert "Unlinked by Max Member (was Acme)." in page_text(
        member_client.get(response["Location"])
    )


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
    assert message in page_text(response)
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
    assert "already linked to Acme" in page_text(response)


def test_the_account_search_finds_accounts_to_pick_or_to_filter_by(
    member_client: Client, accounts: dict[str, Account]
) -> None:
    url = reverse("inbox:account_search")

    pick = page_text(member_client.get(url, {"account_q": "glob"}, headers=HTMX))
    filter_links = page_text(
        member_client.get(
            url, {"account_q": "acme.example", "mode": "filter", "q": "hi"}, headers=HTMX
        )
    )
    nothing = page_text(member_client.get(url, {"account_q": "zzz"}, headers=HTMX))

    assert f'type="radio" name="account" value="{accounts["globex"].pk}"' in pick
    assert "Acme" not in pick
    assert f'href="/inbox/?q=hi&amp;account={accounts["acme"].pk}"' in filter_links
    assert "No account matches “zzz”." in nothing


def test_the_override_search_works_without_javascript(
    member_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    conversation = ticket(admin_api, "jo@acme.example", "Hello")

    html = page_text(member_client.get(conversation.get_absolute_url(), {"account_q": "globex"}))

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
    assert "Write a reply first." in page_text(empty)


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

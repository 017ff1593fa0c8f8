"""Web chat identity: a site's backend signs a visitor's email; an unsigned email is a claim.

Everything goes through the chat API as the widget calls it, then the conversation is
read back as the team sees it: the conversation page and the conversations API.
"""

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from rapport.accounts.models import Account, Contact
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Conversation
from rapport.integrations.webchat.models import ChatSite, ChatVisitor
from rapport.integrations.webchat.services import (
    chat_site_identity_secret_rotate,
    chat_site_update,
)
from rapport.integrations.webchat.tests.factories import Widget, make_site
from rapport.mapping.services import mapping_override, mapping_settings_update
from rapport.users.models import User

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]


def user_hash(secret: str, email: str) -> str:
    """Sign *email* as the site's backend does: hex(HMAC-SHA256(secret, email))."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def widget(site: ChatSite) -> Widget:
    return Widget(site)


@pytest.fixture
def acme(db: None) -> Account:
    return make_account("Acme", domain="acme.example")


def chat(widget: Widget, capture: Capture, *, email: str, signed: bool) -> Conversation:
    """Start a chat (signed by the site or not), send one message; return the conversation."""
    secret = widget.site.identity_secret
    started = widget.start(email=email, user_hash=user_hash(secret, email) if signed else None)
    assert started.status_code == 201, started.content
    assert started.json()["verified"] is signed
    with capture(execute=True):
        assert widget.send(started.json()["token"], "Where is my order?").status_code == 202
    return Conversation.objects.get(requester_email=email.lower())


# --- verified visitors behave as before -----------------------------------------------------


def test_a_signed_visitor_is_verified_and_becomes_a_contact_of_their_account(
    widget: Widget,
    acme: Account,
    member_client: Client,
    member_api: Client,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    conversation = chat(
        widget, django_capture_on_commit_callbacks, email="jo@acme.example", signed=True
    )

    assert conversation.account == acme
    assert conversation.requester_identity == "verified"
    assert conversation.requester is not None
    assert list(conversation.requester.accounts.all()) == [acme]
    payload = member_api.get(f"/api/v1/conversations/{conversation.pk}").json()
    assert payload["requester"]["identity"] == "verified"
    assert payload["requester"]["contact_id"] == conversation.requester.pk
    page = member_client.get(conversation.get_absolute_url()).content.decode()
    assert "Unverified email" not in page
    assert ">Verified</span>" in page


def test_the_email_may_be_signed_as_sent_or_in_lower_case(widget: Widget) -> None:
    secret = widget.site.identity_secret
    as_sent = widget.start(email="Jo@Acme.Example", user_hash=user_hash(secret, "Jo@Acme.Example"))
    lower = widget.start(email="Jo@Acme.Example", user_hash=user_hash(secret, "jo@acme.example"))
    upper_hex = widget.start(
        email="jo@acme.example", user_hash=user_hash(secret, "jo@acme.example").upper()
    )

    assert [r.status_code for r in (as_sent, lower, upper_hex)] == [201, 201, 201]
    assert all(r.json()["verified"] for r in (as_sent, lower, upper_hex))
    assert set(ChatVisitor.objects.values_list("email", "verified")) == {("jo@acme.example", True)}


def test_a_verified_visitor_from_a_new_domain_creates_its_account_when_allowed(
    widget: Widget, admin_user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)

    conversation = chat(
        widget, django_capture_on_commit_callbacks, email="kim@newco.example", signed=True
    )

    assert conversation.account is not None
    assert conversation.account.primary_domain == "newco.example"
    assert conversation.mapping_outcome == "created"


# --- unverified visitors: marked, no contact, no account ------------------------------------


def test_an_unsigned_visitor_is_marked_unverified_and_made_no_contact(
    widget: Widget,
    acme: Account,
    member_client: Client,
    member_api: Client,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    conversation = chat(
        widget, django_capture_on_commit_callbacks, email="jo@acme.example", signed=False
    )

    # The domain may still point the conversation at its account, for the team to see...
    assert conversation.account == acme
    assert conversation.requester_identity == "unverified"
    # ...but the claim makes no contact of that account.
    assert conversation.requester is None
    assert not Contact.objects.filter(email="jo@acme.example").exists()
    assert not acme.contacts.exists()
    payload = member_api.get(f"/api/v1/conversations/{conversation.pk}").json()
    assert payload["requester"] == {
        "email": "jo@acme.example",
        "name": "Jo Buyer",
        "contact_id": None,
        "identity": "unverified",
    }
    listed = member_api.get("/api/v1/conversations").json()["items"]
    assert listed[0]["requester"]["identity"] == "unverified"
    page = member_client.get(conversation.get_absolute_url()).content.decode()
    assert "Unverified email" in page
    assert "Not a contact: an unverified email is never added to an account." in page
    assert 'class="badge identity-unverified"' in member_client.get("/inbox/").content.decode()


def test_an_unsigned_claim_to_a_known_contacts_email_is_not_tied_to_that_contact(
    widget: Widget, acme: Account, django_capture_on_commit_callbacks: Capture
) -> None:
    ceo = contact_add_to_account(account=acme, email="ceo@acme.example", name="The CEO")

    conversation = chat(
        widget, django_capture_on_commit_callbacks, email="ceo@acme.example", signed=False
    )

    assert conversation.requester is None
    assert conversation.requester_identity == "unverified"
    assert list(ceo.accounts.all()) == [acme]


def test_an_unsigned_visitor_never_creates_an_account(
    widget: Widget, admin_user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)

    conversation = chat(
        widget, django_capture_on_commit_callbacks, email="kim@newco.example", signed=False
    )

    assert not Account.objects.exists()
    assert not Contact.objects.exists()
    assert conversation.account is None
    assert conversation.mapping_outcome == "unmatched"
    reason = conversation.mapping_decisions.get().reason
    assert reason == (
        "Not linked: no account has the domain newco.example, and an unverified email "
        "address never creates an account."
    )


def test_moving_an_unverified_conversation_by_hand_adds_no_contact(
    widget: Widget,
    acme: Account,
    member_user: User,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    globex = make_account("Globex", domain="globex.example")
    conversation = chat(
        widget, django_capture_on_commit_callbacks, email="jo@acme.example", signed=False
    )

    mapping_override(actor=member_user, conversation=conversation, account=globex)

    conversation.refresh_from_db()
    assert conversation.account == globex
    assert conversation.requester is None
    assert not Contact.objects.exists()


# --- refused signatures ----------------------------------------------------------------------


def test_a_hash_that_does_not_match_is_refused_and_nothing_is_stored(
    widget: Widget, site: ChatSite
) -> None:
    other = make_site("Globex")
    wrong = {
        "another email": user_hash(site.identity_secret, "max@acme.example"),
        "another site's secret": user_hash(other.identity_secret, "jo@acme.example"),
        "the public key": user_hash(site.public_key, "jo@acme.example"),
    }
    for what, forged in wrong.items():
        response = widget.start(email="jo@acme.example", user_hash=forged)
        assert response.status_code == 403, what
        assert "could not be verified" in response.json()["error"]
        assert response["Access-Control-Allow-Origin"] == widget.origin  # the widget shows it
    assert not ChatVisitor.objects.exists()


def test_a_hash_made_with_a_rotated_secret_is_refused(widget: Widget, site: ChatSite) -> None:
    old = user_hash(site.identity_secret, "jo@acme.example")
    assert widget.start(email="jo@acme.example", user_hash=old).status_code == 201

    rotated = chat_site_identity_secret_rotate(actor=None, site=site)

    assert rotated.identity_secret != site.identity_secret
    assert widget.start(email="jo@acme.example", user_hash=old).status_code == 403
    new = user_hash(rotated.identity_secret, "jo@acme.example")
    assert widget.start(email="jo@acme.example", user_hash=new).status_code == 201


@pytest.mark.parametrize("bad", ["xyz", "a" * 63, "g" * 64, "a" * 65, "é" * 64, ["a" * 64], 7])
def test_a_malformed_user_hash_answers_400(widget: Widget, bad: Any) -> None:
    response = widget.start(email="jo@acme.example", user_hash=bad)

    assert response.status_code == 400
    assert "user_hash" in response.json()["error"]
    assert not ChatVisitor.objects.exists()


def test_a_site_that_requires_verified_visitors_refuses_an_unsigned_one(
    widget: Widget, site: ChatSite
) -> None:
    chat_site_update(actor=None, site=site, require_verified=True)

    unsigned = widget.start(email="jo@acme.example")
    empty = widget.start(email="jo@acme.example", user_hash="")
    signed = widget.start(
        email="jo@acme.example", user_hash=user_hash(site.identity_secret, "jo@acme.example")
    )

    assert unsigned.status_code == 403
    assert unsigned.json() == {
        "error": "This chat is for signed-in customers: sign in on the site to start a chat."
    }
    assert empty.status_code == 403
    assert signed.status_code == 201 and signed.json()["verified"] is True
    assert list(ChatVisitor.objects.values_list("verified", flat=True)) == [True]

"""The mapping API: decisions, settings and the public domain lookup."""

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Conversation
from rapport.mapping.services import mapping_override
from rapport.users.models import User

pytestmark = pytest.mark.django_db

DECISIONS = "/api/v1/mapping/decisions"
SETTINGS = "/api/v1/mapping/settings"
# The token, the count, the page of decisions with their accounts and actor.
DECISION_QUERIES = 3


def ticket(api: Client, email: str, subject: str = "Help") -> Conversation:
    payload = {"requester_email": email, "subject": subject}
    response = api.post("/api/v1/tickets", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    return Conversation.objects.get(pk=response.json()["id"])


def _patch(api: Client, body: Any) -> Any:
    return api.patch(SETTINGS, body, content_type="application/json")


@pytest.fixture
def betas(db: None) -> tuple[Account, Account]:
    return (
        make_account("Beta Inc", domain="beta.example", secondary_domains=["shared.example"]),
        make_account("Beta Labs", domain="betalabs.example", secondary_domains=["shared.example"]),
    )


# --- decisions ---------------------------------------------------------------------------


def test_decisions_list_newest_first_and_filter_by_outcome_and_method(
    member_api: Client, admin_api: Client, member_user: User, betas: tuple[Account, Account]
) -> None:
    beta, labs = betas
    linked = ticket(admin_api, "a@beta.example")
    conflict = ticket(admin_api, "b@shared.example")
    mapping_override(actor=member_user, conversation=conflict, account=labs)

    everything = member_api.get(DECISIONS).json()
    conflicts = member_api.get(f"{DECISIONS}?outcome=conflict").json()
    manual = member_api.get(f"{DECISIONS}?method=manual").json()
    one = member_api.get(f"{DECISIONS}?conversation_id={linked.pk}").json()

    assert everything["count"] == 3
    assert [d["method"] for d in everything["items"]] == ["manual", "email_domain", "email_domain"]
    (open_conflict,) = conflicts["items"]
    assert open_conflict["conversation_id"] == conflict.pk
    assert open_conflict["resolved"] is True and open_conflict["overridden"] is True
    assert [c["name"] for c in open_conflict["candidates"]] == ["Beta Inc", "Beta Labs"]
    (override,) = manual["items"]
    assert override["actor"]["id"] == member_user.pk
    assert override["account"] == {"id": labs.pk, "name": "Beta Labs"}
    assert override["previous_account"] is None
    assert [d["account"]["name"] for d in one["items"]] == ["Beta Inc"]


def test_decisions_page_with_a_constant_number_of_queries(
    member_api: Client,
    admin_api: Client,
    member_user: User,
    betas: tuple[Account, Account],
    django_assert_num_queries: Any,
) -> None:
    beta, labs = betas
    member_api.get(DECISIONS)  # a token's first use is recorded once, outside the count
    for total in (2, 10):
        while Conversation.objects.count() < total // 2:
            n = Conversation.objects.count()
            mapping_override(
                actor=member_user,
                conversation=ticket(admin_api, f"p{n}@beta.example"),
                account=labs,
            )
        with django_assert_num_queries(DECISION_QUERIES):
            body = member_api.get(f"{DECISIONS}?limit=200").json()
        assert body["count"] == len(body["items"]) == total


@pytest.mark.parametrize(
    "query",
    ["outcome=lost", "method=magic", "limit=0", "limit=201", "offset=-1", "conversation_id=x"],
)
def test_bad_decision_filters_answer_422(member_api: Client, query: str) -> None:
    response = member_api.get(f"{DECISIONS}?{query}")
    assert response.status_code == 422
    assert response.json()["error"]


def test_the_mapping_api_needs_authentication(client: Client, db: None) -> None:
    assert client.get(DECISIONS).status_code == 401
    assert client.get(SETTINGS).status_code == 401
    assert _patch(client, {"auto_create_accounts": True}).status_code == 401
    assert client.get("/api/v1/mapping/public-domains/gmail.com").status_code == 401


# --- settings ----------------------------------------------------------------------------


def test_anyone_reads_the_settings(member_api: Client) -> None:
    body = member_api.get(SETTINGS).json()

    assert body["auto_create_accounts"] is False
    assert body["public_domains_added"] == body["public_domains_removed"] == []
    assert body["public_domains_packaged"] > 10_000


def test_an_admin_patches_the_settings_and_mapping_follows(
    admin_api: Client, member_api: Client, db: None
) -> None:
    response = _patch(
        admin_api,
        {"auto_create_accounts": True, "public_domains_added": ["Freebox.Example"]},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["auto_create_accounts"] is True
    assert body["public_domains_added"] == ["freebox.example"]
    assert ticket(admin_api, "jo@newco.example").account is not None
    assert ticket(admin_api, "al@freebox.example").account is None
    # A PATCH changes only what it names.
    again = _patch(admin_api, {"public_domains_removed": ["gmx.de"]}).json()
    assert again["auto_create_accounts"] is True
    assert again["public_domains_added"] == ["freebox.example"]
    assert member_api.get(SETTINGS).json()["public_domains_removed"] == ["gmx.de"]


def test_a_member_cannot_patch_the_settings(member_api: Client) -> None:
    response = _patch(member_api, {"auto_create_accounts": True})

    assert response.status_code == 403
    assert response.json() == {"error": "Only an admin can change the mapping settings."}
    assert member_api.get(SETTINGS).json()["auto_create_accounts"] is False


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"auto_create_accounts": "sometimes"}, 422),
        ({"public_domains_added": "gmail.com"}, 422),
        ({"public_domains_added": ["not a domain"]}, 400),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    admin_api: Client, body: dict[str, Any], status: int
) -> None:
    response = _patch(admin_api, body)

    assert response.status_code == status
    assert response.json()["error"]
    assert admin_api.get(SETTINGS).json()["public_domains_added"] == []


# --- public domain lookup ------------------------------------------------------------------


def test_the_public_domain_lookup_answers_with_the_reason(member_api: Client) -> None:
    gmail = member_api.get("/api/v1/mapping/public-domains/GMAIL.com").json()
    company = member_api.get("/api/v1/mapping/public-domains/acme.example").json()
    bad = member_api.get("/api/v1/mapping/public-domains/not_a_domain!")

    assert gmail == {
        "domain": "gmail.com",
        "public": True,
        "why": "gmail.com is in the maintained list of public mail domains.",
    }
    assert company["public"] is False
    assert bad.status_code == 400

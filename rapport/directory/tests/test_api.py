"""The accounts API's list, which the directory serves: filters, pages and query counts."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from rapport.accounts.models import Account, FieldDefinition
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.tests.factories import make_account, make_channel, make_field
from rapport.accounts.tests.kit import error_of
from rapport.users.models import User

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/accounts"


# --- list ----------------------------------------------------------------------------------


def test_list_answers_items_and_count_with_limit_and_offset(admin_api: Client) -> None:
    for i in range(7):
        make_account(f"Company {i:02d}")
    body = admin_api.get(ACCOUNTS, {"limit": 3, "offset": 3}).json()
    assert body["count"] == 7
    assert [a["name"] for a in body["items"]] == ["Company 03", "Company 04", "Company 05"]
    tail = admin_api.get(ACCOUNTS, {"limit": 3, "offset": 6}).json()
    assert [a["name"] for a in tail["items"]] == ["Company 06"]
    beyond = admin_api.get(ACCOUNTS, {"offset": 100}).json()
    assert beyond == {"items": [], "count": 7}


def test_list_defaults_to_50_per_page(admin_api: Client) -> None:
    for i in range(55):
        make_account(f"Company {i:02d}")
    body = admin_api.get(ACCOUNTS).json()
    assert (len(body["items"]), body["count"]) == (50, 55)


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "ten"}])
def test_list_refuses_bad_pagination_with_422(admin_api: Client, query: dict[str, Any]) -> None:
    error_of(admin_api.get(ACCOUNTS, query), 422)


def test_an_account_carries_its_identity_owner_crm_and_fields(
    admin_api: Client, member_user: User
) -> None:
    make_field("seats", type="number")
    account = make_account(
        "Acme",
        domain="acme.com",
        secondary_domains=["acme.io"],
        owner=member_user,
        crm_id="4242",
        fields={"seats": 25},
        arr="1200.50",
    )
    contact_add_to_account(account=account, email="jane@acme.com", name="Jane")
    make_channel("acme-support", accounts=[account])
    [item] = admin_api.get(ACCOUNTS).json()["items"]
    assert item["id"] == account.pk
    assert item["name"] == "Acme"
    assert item["primary_domain"] == "acme.com"
    assert item["secondary_domains"] == ["acme.io"]
    assert item["owner"] == {
        "id": member_user.pk,
        "email": "member@example.test",
        "name": "Max Member",
    }
    assert item["crm"]["provider"] == "hubspot"
    assert item["crm"]["external_id"] == "4242"
    assert item["crm"]["sync_status"] == "synced"
    assert item["fields"] == {"seats": 25}
    assert item["contact_count"] == 1
    assert item["contacts"][0]["email"] == "jane@acme.com"
    assert [c["name"] for c in item["channels"]] == ["acme-support"]
    assert item["arr"] == "1200.50"


def _rich_accounts(count: int, owner: User) -> None:
    """Accounts with everything a list row shows: owner, CRM, fields, contacts, channels."""
    if not FieldDefinition.objects.exists():
        make_field("seats", type="number")
        make_field("tier", type="choice", choices=["Gold", "Silver"])
    start = Account.objects.count()
    for i in range(start, start + count):
        account = make_account(
            secondary_domains=[f"alt{i}.example", f"other{i}.example"],
            owner=owner if i % 2 else None,
            crm_id=f"crm-{i}" if i % 3 == 0 else None,
            fields={"seats": i, "tier": "Gold"},
            contacts=4,
        )
        make_channel(f"channel-{i}", accounts=[account])


# The token, the field definitions, the count, the page with its owners, then one
# prefetch each for contacts, channels, field values and secondary domains.
LIST_QUERIES = 8


@pytest.mark.parametrize(
    "query",
    [{"limit": 200}, {"limit": 200, "sort": "-field.seats", "field.tier": "Gold", "q": "company"}],
    ids=["plain", "filtered-and-sorted"],
)
def test_the_list_issues_the_same_few_queries_for_5_or_40_accounts(
    admin_api: Client,
    member_user: User,
    query: dict[str, Any],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    admin_api.get(ACCOUNTS)  # a token's first use is recorded once, outside the count
    for total in (5, 40):
        _rich_accounts(total - Account.objects.count(), member_user)
        with django_assert_num_queries(LIST_QUERIES):
            response = admin_api.get(ACCOUNTS, query)
        body = response.json()
        assert body["count"] == len(body["items"]) == total
        assert all(len(item["contacts"]) == 3 for item in body["items"])


def test_a_browser_session_lists_with_as_few_queries(
    admin_client: Client, member_user: User, django_assert_num_queries: Callable[..., Any]
) -> None:
    _rich_accounts(10, member_user)
    # The session and its user replace the token lookup.
    with django_assert_num_queries(LIST_QUERIES + 1):
        assert admin_client.get(ACCOUNTS).status_code == 200


@pytest.mark.parametrize("query", [{"q": "a\x00"}, {"industry": "\x00"}, {"field.x\x00": "1"}])
def test_a_list_query_with_nul_characters_is_refused_with_400(
    admin_api: Client, query: dict[str, str]
) -> None:
    assert "NUL" in error_of(admin_api.get(ACCOUNTS, query), 400)


@pytest.mark.parametrize("query", [{"owner": "²"}, {"open_requests_min": "²"}])
def test_a_superscript_digit_in_a_filter_answers_400_not_500(
    admin_api: Client, query: dict[str, str]
) -> None:
    assert "must be" in error_of(admin_api.get(ACCOUNTS, query), 400)

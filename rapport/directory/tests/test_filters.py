"""The account filter set: every filter and sort the directory page and the API offer."""

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client

from rapport.accounts.models import Account
from rapport.accounts.selectors import field_definitions
from rapport.accounts.services import account_record_crm_sync, account_set_crm_mapping
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.tests.factories import make_account, make_channel, make_field
from rapport.core.errors import InvalidInput
from rapport.directory.filters import SORTS, AccountFilterSet
from rapport.directory.selectors import account_page
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def _filters(params: dict[str, Any]) -> AccountFilterSet:
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query.setlist(key, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    return AccountFilterSet.from_params(query, field_definitions())


def names(**params: Any) -> list[str]:
    """Return the names of the accounts the directory shows for *params*, in order."""
    params = {key.replace("__", "."): value for key, value in params.items()}
    page = account_page(_filters(params), limit=200, offset=0)
    assert page.count == len(page.items)
    return [a.name for a in page.items]


def refused(**params: Any) -> InvalidInput:
    params = {key.replace("__", "."): value for key, value in params.items()}
    with pytest.raises(InvalidInput) as caught:
        _filters(params)
    assert caught.value.message
    return caught.value


# --- q -------------------------------------------------------------------------------------


@pytest.fixture
def searchable(db: None) -> None:
    acme = make_account("Acme Corp", domain="acme.com", secondary_domains=["acme-mail.io"])
    contact_add_to_account(account=acme, email="jane@gmail.com")
    make_account("Globex", domain="globex.com", crm_id="77")
    make_account("Initech", domain="initech.com")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("acme", ["Acme Corp"]),
        ("ACME corp", ["Acme Corp"]),
        ("globex.com", ["Globex"]),
        ("acme-mail", ["Acme Corp"]),
        ("jane@gmail.com", ["Acme Corp"]),
        ("gmail", ["Acme Corp"]),
        ("corp acme", ["Acme Corp"]),
        (".com", ["Acme Corp", "Globex", "Initech"]),
        ("acme initech", []),
        ("nothing-like-this", []),
        ("   ", ["Acme Corp", "Globex", "Initech"]),
    ],
)
def test_q_matches_name_domains_and_contact_emails(
    searchable: None, q: str, expected: list[str]
) -> None:
    assert names(q=q) == expected


def test_q_matches_the_crm_company_name(db: None) -> None:
    make_account("Acme", crm_id="1")  # the factory names the CRM company after the account
    account = make_account("Initech")
    account_set_crm_mapping(
        actor=None, account=account, provider="hubspot", external_id="2", company_name="Penetrode"
    )
    assert names(q="penetrode") == ["Initech"]


# --- owner, status, source, industry, crm_status ------------------------------------------


def test_owner_filters_by_user_id_or_none(member_user: User, make_user: Callable) -> None:
    other = make_user("other@example.test")
    make_account("Mine", owner=member_user)
    make_account("Theirs", owner=other)
    make_account("Nobody's")
    assert names(owner=member_user.pk) == ["Mine"]
    assert names(owner="none") == ["Nobody's"]
    assert names(owner=[member_user.pk, "none"]) == ["Mine", "Nobody's"]
    assert names(owner=[member_user.pk, other.pk]) == ["Mine", "Theirs"]
    assert names(owner=999999) == []


def test_a_bad_owner_is_refused() -> None:
    assert refused(owner="jane").field == "owner"


def test_status_source_and_industry_filters(db: None) -> None:
    make_account("Onboarding retail", status="pending_handoff", industry="Retail", source="crm")
    make_account("Active retail", status="active", industry="Retail")
    make_account("Churned bank", status="churned", industry="Banking", source="slack")
    assert names(status="pending_handoff") == ["Onboarding retail"]
    assert names(status=["active", "churned"]) == ["Active retail", "Churned bank"]
    assert names(source="manual") == ["Active retail"]
    assert names(source=["crm", "slack"]) == ["Churned bank", "Onboarding retail"]
    assert names(industry="Retail") == ["Active retail", "Onboarding retail"]
    assert names(industry=["Banking", "Retail"], status="active") == ["Active retail"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("status", "asleep"), ("source", "fax"), ("crm_status", "broken"), ("has_channel", "maybe")],
)
def test_an_unknown_choice_is_refused_naming_the_parameter(name: str, value: str) -> None:
    error = refused(**{name: value})
    assert error.field == name
    assert name in error.message


def test_crm_status_filter(db: None) -> None:
    make_account("Unmapped")
    make_account("Synced", crm_id="1")
    failing = make_account("Failing", crm_id="2")
    account_record_crm_sync(account=failing, ok=False, error="401")
    assert names(crm_status="not_mapped") == ["Unmapped"]
    assert names(crm_status="synced") == ["Synced"]
    assert names(crm_status="failing") == ["Failing"]
    assert names(crm_status=["synced", "failing"]) == ["Failing", "Synced"]


def test_has_channel_filter(db: None) -> None:
    linked = make_account("Linked")
    make_account("Alone")
    make_channel("acme-support", accounts=[linked])
    make_channel("acme-exec", accounts=[linked])
    assert names(has_channel="yes") == ["Linked"]
    assert names(has_channel="no") == ["Alone"]
    assert names(has_channel="") == ["Alone", "Linked"]


# --- arr -----------------------------------------------------------------------------------


def test_arr_range_is_inclusive_and_skips_accounts_without_arr(db: None) -> None:
    make_account("Small", arr=Decimal("1000"))
    make_account("Medium", arr=Decimal("50000"))
    make_account("Large", arr=Decimal("250000.50"))
    make_account("Unknown")
    assert names(arr_min=50000) == ["Large", "Medium"]
    assert names(arr_max="50000") == ["Medium", "Small"]
    assert names(arr_min=1000, arr_max=50000) == ["Medium", "Small"]
    assert names(arr_min="250000.51") == []


@pytest.mark.parametrize("value", ["lots", "NaN", "Infinity", "1,000"])
def test_a_bad_arr_bound_is_refused(value: str) -> None:
    assert refused(arr_min=value).field == "arr_min"
    assert refused(arr_max=value).field == "arr_max"


def test_a_huge_arr_bound_matches_nothing_instead_of_failing(db: None) -> None:
    make_account("Large", arr=Decimal("250000"))
    assert names(arr_min="1e20") == []
    assert names(arr_max="1e20") == ["Large"]


# --- extra fields --------------------------------------------------------------------------


@pytest.fixture
def with_fields(db: None) -> None:
    make_field("seats", type="number")
    make_field("renewal", type="date")
    make_field("tier", type="choice", choices=["Gold", "Silver", "Bronze"])
    make_field("region", source="crm", crm_property="region")
    make_account("Alpha", fields={"seats": 10, "renewal": "2025-01-15", "tier": "Gold"})
    make_account("Beta", fields={"seats": 50, "renewal": "2025-06-30", "tier": "Silver"})
    make_account("Gamma", fields={"seats": 200, "tier": "Bronze", "region": "EMEA"})
    make_account("Delta")


def test_field_exact_match(with_fields: None) -> None:
    assert names(field__tier="Gold") == ["Alpha"]
    assert names(field__tier=["Gold", "Bronze"]) == ["Alpha", "Gamma"]
    assert names(field__seats="50") == ["Beta"]
    assert names(field__seats="50.0") == ["Beta"]
    assert names(field__renewal="2025-06-30") == ["Beta"]
    assert names(field__region="EMEA") == ["Gamma"]
    assert names(field__region="APAC") == []


def test_field_min_and_max_on_numbers_and_dates(with_fields: None) -> None:
    assert names(field__seats__min=50) == ["Beta", "Gamma"]
    assert names(field__seats__max=50) == ["Alpha", "Beta"]
    assert names(field__seats__min=11, field__seats__max=199) == ["Beta"]
    assert names(field__renewal__min="2025-02-01") == ["Beta"]
    assert names(field__renewal__max="2025-01-15") == ["Alpha"]


def test_field_filters_combine_with_other_filters(with_fields: None) -> None:
    assert names(field__seats__min=10, q="gamma") == ["Gamma"]
    assert names(field__seats__min=10, field__tier="Gold") == ["Alpha"]


@pytest.mark.parametrize(
    "params",
    [
        {"field.colour": "red"},
        {"field.tier.min": "Gold"},
        {"field.seats.between": "1"},
        {"field.seats": "many"},
        {"field.seats.min": "many"},
        {"field.renewal.max": "June"},
        {"field.tier": "Platinum"},
    ],
)
def test_bad_field_filters_are_refused(with_fields: None, params: dict[str, str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        _filters(params)
    assert caught.value.message


def test_an_empty_field_filter_is_ignored(with_fields: None) -> None:
    assert names(field__tier="") == ["Alpha", "Beta", "Delta", "Gamma"]


# --- sort ----------------------------------------------------------------------------------


def test_default_sort_is_by_name_case_insensitively(db: None) -> None:
    for name in ["beta", "Alpha", "gamma", "Delta"]:
        make_account(name)
    assert names() == ["Alpha", "beta", "Delta", "gamma"]
    assert names(sort="-name") == ["gamma", "Delta", "beta", "Alpha"]


def test_sort_by_number_puts_missing_values_last_in_both_directions(db: None) -> None:
    make_account("Small", arr=1)
    make_account("None")
    make_account("Big", arr=100)
    assert names(sort="arr") == ["Small", "Big", "None"]
    assert names(sort="-arr") == ["Big", "Small", "None"]


def test_ties_are_broken_by_id_so_pages_are_stable(db: None) -> None:
    accounts = [make_account(f"Same {i}", industry="Retail") for i in range(7)]
    ids = [a.pk for a in accounts]
    asc = account_page(_filters({"sort": "industry"}), limit=50, offset=0).items
    desc = account_page(_filters({"sort": "-industry"}), limit=50, offset=0).items
    assert [a.pk for a in asc] == sorted(ids)
    assert [a.pk for a in desc] == sorted(ids, reverse=True)
    paged = [
        a.pk
        for offset in range(0, 7, 3)
        for a in account_page(_filters({"sort": "industry"}), limit=3, offset=offset).items
    ]
    assert paged == sorted(ids)


def test_sort_by_contact_count(db: None) -> None:
    make_account("Two", contacts=2)
    make_account("None")
    make_account("Three", contacts=3)
    assert names(sort="-contacts") == ["Three", "Two", "None"]


def test_sort_by_owner_name(member_user: User, make_user: Callable) -> None:
    zed = make_user("zed@example.test", name="Zed")
    make_account("Owned by Zed", owner=zed)
    make_account("Owned by Max", owner=member_user)
    make_account("Unowned")
    assert names(sort="owner") == ["Owned by Max", "Owned by Zed", "Unowned"]
    assert names(sort="-owner") == ["Owned by Zed", "Owned by Max", "Unowned"]


def test_sort_by_slack_channel(db: None) -> None:
    a = make_account("A")
    b = make_account("B")
    make_account("C")
    make_channel("zeta", accounts=[a])
    make_channel("alpha", accounts=[b])
    assert names(sort="slack_channel") == ["B", "A", "C"]
    assert names(sort="-slack_channel") == ["A", "B", "C"]


def test_sort_by_extra_fields(with_fields: None) -> None:
    assert names(sort="field.seats") == ["Alpha", "Beta", "Gamma", "Delta"]
    assert names(sort="-field.seats") == ["Gamma", "Beta", "Alpha", "Delta"]
    assert names(sort="field.renewal") == ["Alpha", "Beta", "Gamma", "Delta"]
    assert names(sort="-field.tier") == ["Beta", "Alpha", "Gamma", "Delta"]


def test_sort_by_close_date_and_created(db: None) -> None:
    make_account("Later", close_date=datetime.date(2025, 5, 1))
    make_account("Sooner", close_date=datetime.date(2024, 5, 1))
    assert names(sort="close_date") == ["Sooner", "Later"]
    assert names(sort="created") == ["Later", "Sooner"]
    assert names(sort="-created") == ["Sooner", "Later"]


@pytest.mark.parametrize("key", [*SORTS, "slack_channel"])
def test_every_sort_key_works_in_both_directions(db: None, key: str) -> None:
    make_account("One", crm_id="1", arr=5, industry="B", employee_count=3)
    make_account("Two", domain=None, industry="A")
    for sort in (key, f"-{key}"):
        assert sorted(names(sort=sort)) == ["One", "Two"]


@pytest.mark.parametrize("sort", ["colour", "field.nope", "-", "name; DROP TABLE"])
def test_an_unknown_sort_is_refused(db: None, sort: str) -> None:
    assert refused(sort=sort).field == "sort"


# --- round trip and the API ----------------------------------------------------------------


def test_filters_survive_a_round_trip_through_the_url(with_fields: None, member_user: User) -> None:
    params = {
        "q": "alpha",
        "owner": [str(member_user.pk), "none"],
        "status": ["active"],
        "crm_status": ["not_mapped"],
        "has_channel": "no",
        "arr_min": "0",
        "field.seats.min": "5",
        "field.tier": ["Gold"],
        "sort": "-arr",
    }
    original = _filters(params)
    again = _filters({**original.as_query(), "sort": original.sort_param})
    assert again.as_query() == original.as_query()
    assert again.sort_param == "-arr"
    assert original.is_filtered
    assert not _filters({}).is_filtered


def test_the_api_applies_the_same_filters_as_the_directory(
    with_fields: None, admin_api: Client
) -> None:
    query = {"field.seats.min": "20", "sort": "-field.seats", "status": "none"}
    response = admin_api.get("/api/v1/accounts", query)
    assert response.status_code == 200
    assert [a["name"] for a in response.json()["items"]] == names(
        **{
            "field__seats__min": "20",
            "sort": "-field.seats",
            "status": "none",
        }
    )
    assert [a["name"] for a in response.json()["items"]] == ["Gamma", "Beta"]


@pytest.mark.parametrize(
    "query",
    [
        {"owner": "jane"},
        {"status": "asleep"},
        {"sort": "colour"},
        {"arr_min": "lots"},
        {"field.colour": "red"},
        {"has_channel": "perhaps"},
    ],
)
def test_the_api_answers_400_naming_a_bad_filter(
    with_fields: None, admin_api: Client, query: dict[str, str]
) -> None:
    response = admin_api.get("/api/v1/accounts", query)
    assert response.status_code == 400
    body = response.json()
    assert body["error"]
    assert body["field"] == next(iter(query))


def test_counting_matches_filtering(db: None) -> None:
    for i in range(5):
        make_account(f"Retail {i}", industry="Retail")
    make_account("Bank", industry="Banking")
    page = account_page(_filters({"industry": "Retail"}), limit=2, offset=2)
    assert page.count == 5
    assert [a.name for a in page.items] == ["Retail 2", "Retail 3"]
    assert Account.objects.count() == 6


def test_the_api_documents_the_declared_filters_and_describes_the_field_ones(
    client: Client,
) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/accounts"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    declared = {p.name: p.description for p in AccountFilterSet.params}
    assert set(parameters) == set(declared) | {"limit", "offset"}
    for name, description in declared.items():
        assert parameters[name].get("description", "") == description
    assert parameters["sort"]["schema"]["default"] == "name"
    assert "`field.<key>.min`" in operation["description"]

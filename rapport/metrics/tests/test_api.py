"""The metrics API (an account's figures, SLA policies) and the accounts API's new filters."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Source
from rapport.metrics.models import SlaPolicy
from rapport.metrics.services import account_request_metrics_refresh
from rapport.metrics.tests.factories import make_request, request_rate, request_set

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
POLICIES = "/api/v1/metrics/sla-policies"


def test_an_accounts_request_figures(admin_api: Client) -> None:
    account = make_account("Acme")
    asked = make_request(account, author_name="Ann", sent_at=T0, source=Source.SLACK)
    make_request(account, author_name="Bo", sent_at=T0 + datetime.timedelta(hours=1))
    request_set(asked, first_response_at=T0 + datetime.timedelta(minutes=30))
    request_rate(asked, 3)
    request_set(asked, closed_at=T0 + datetime.timedelta(hours=2))

    body = admin_api.get(f"/api/v1/metrics/accounts/{account.pk}/requests").json()
    assert body["account_id"] == account.pk
    assert (body["open"], body["waiting"], body["pending"], body["closed"]) == (1, 0, 0, 1)
    assert body["total"] == 2
    assert body["last_request_at"].startswith("2026-11-02T10:00:00")
    assert body["top_requester"] == {"contact_id": None, "name": "Bo"}
    assert body["top_source"] == "email"
    assert body["avg_first_response_seconds"] == pytest.approx(1800, abs=0.01)
    assert body["avg_resolution_seconds"] == pytest.approx(7200, abs=0.01)
    assert (body["avg_csat"], body["csat_count"]) == (3.0, 1)
    assert (body["first_response_breaches"], body["resolution_breaches"]) == (0, 0)


def test_the_figures_of_an_unknown_account_are_a_404(admin_api: Client) -> None:
    response = admin_api.get("/api/v1/metrics/accounts/999999/requests")
    assert response.status_code == 404


def test_the_figures_need_authentication() -> None:
    account = make_account()
    assert Client().get(f"/api/v1/metrics/accounts/{account.pk}/requests").status_code == 401


# --- SLA policies -----------------------------------------------------------------------------


def _json(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(url, body, content_type="application/json")


def test_an_admin_manages_policies_through_the_api(admin_api: Client) -> None:
    created = _json(
        admin_api,
        "post",
        POLICIES,
        {"name": "Gold", "tier": "Gold", "first_response_minutes": 30, "timezone": "Asia/Tokyo"},
    )
    assert created.status_code == 201
    policy = created.json()
    assert policy["weekdays"] == [0, 1, 2, 3, 4] and policy["day_start"] == "09:00"
    listed = admin_api.get(POLICIES).json()
    assert listed["count"] == 1 and listed["items"][0]["name"] == "Gold"

    url = f"{POLICIES}/{policy['id']}"
    patched = _json(admin_api, "patch", url, {"always_on": True, "resolution_minutes": 600})
    assert patched.status_code == 200
    assert patched.json()["always_on"] and patched.json()["resolution_minutes"] == 600
    assert admin_api.get(url).json()["always_on"]
    assert admin_api.delete(url).status_code == 204
    assert admin_api.get(url).status_code == 404


@pytest.mark.parametrize("blank", ["day_start", "day_end"])
def test_a_blank_working_day_bound_is_refused_and_stores_nothing(
    admin_api: Client, blank: str
) -> None:
    answer = _json(admin_api, "post", POLICIES, {"name": "Silver", blank: ""})
    assert answer.status_code in (400, 422), answer.content
    assert SlaPolicy.objects.count() == 0


def test_a_member_reads_policies_but_cannot_change_them(
    admin_api: Client, member_api: Client
) -> None:
    policy = _json(admin_api, "post", POLICIES, {"name": "Default"}).json()
    assert member_api.get(POLICIES).json()["count"] == 1
    assert _json(member_api, "post", POLICIES, {"name": "Mine", "tier": "X"}).status_code == 403
    url = f"{POLICIES}/{policy['id']}"
    assert _json(member_api, "patch", url, {"name": "Changed"}).status_code == 403
    assert member_api.delete(url).status_code == 403
    assert SlaPolicy.objects.get().name == "Default"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "X", "timezone": "Nowhere"}, 400),
        ({"name": "X", "weekdays": [9]}, 400),
        ({"name": "X", "day_start": "19:00", "day_end": "08:00"}, 400),
        ({"name": "X", "first_response_minutes": 0}, 422),
        ({"tier": "X"}, 422),
    ],
)
def test_a_bad_policy_is_refused(admin_api: Client, body: dict[str, Any], status: int) -> None:
    assert _json(admin_api, "post", POLICIES, body).status_code == status
    assert not SlaPolicy.objects.exists()


def test_a_second_policy_for_a_tier_is_a_conflict(admin_api: Client) -> None:
    assert _json(admin_api, "post", POLICIES, {"name": "A", "tier": "Gold"}).status_code == 201
    response = _json(admin_api, "post", POLICIES, {"name": "B", "tier": "Gold"})
    assert response.status_code == 409 and "Gold" in response.json()["error"]


def test_patching_a_required_field_to_null_is_refused(admin_api: Client) -> None:
    policy = _json(admin_api, "post", POLICIES, {"name": "A"}).json()
    response = _json(admin_api, "patch", f"{POLICIES}/{policy['id']}", {"name": None})
    assert response.status_code == 400


# --- the accounts API -------------------------------------------------------------------------


def _accounts(n: int, open_: int) -> None:
    for i in range(n):
        account = make_account(f"Open {open_} #{i}")
        for _ in range(open_):
            make_request(account, sent_at=T0)


def test_the_accounts_api_filters_and_sorts_on_request_figures(admin_api: Client) -> None:
    _accounts(2, open_=1)
    _accounts(1, open_=3)
    make_account("Quiet")
    account_request_metrics_refresh()
    body = admin_api.get(
        "/api/v1/accounts", {"has_open_requests": "yes", "sort": "-requests_open"}
    ).json()
    assert [item["name"] for item in body["items"]] == ["Open 3 #0", "Open 1 #1", "Open 1 #0"]
    assert body["count"] == 3
    assert body["items"][0]["requests"]["open"] == 3
    assert body["items"][0]["tier"] == ""
    quiet = admin_api.get("/api/v1/accounts", {"has_open_requests": "no"}).json()
    assert [item["name"] for item in quiet["items"]] == ["Quiet"]
    assert quiet["items"][0]["requests"]["total"] == 0


def test_an_account_before_its_first_refresh_has_no_figures(admin_api: Client) -> None:
    make_account("New")
    assert admin_api.get("/api/v1/accounts").json()["items"][0]["requests"] is None


def test_a_bad_request_filter_is_a_400(admin_api: Client) -> None:
    response = admin_api.get("/api/v1/accounts", {"last_request_after": "yesterday"})
    assert response.status_code == 400
    assert "last_request_after" in response.json()["error"]


def test_the_accounts_list_keeps_its_query_count_with_request_figures(admin_api: Client) -> None:
    _accounts(3, open_=1)
    account_request_metrics_refresh()
    params = {"sort": "-requests_open", "open_requests_min": "1"}
    admin_api.get("/api/v1/accounts")  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        admin_api.get("/api/v1/accounts", params)
    _accounts(20, open_=2)
    account_request_metrics_refresh()
    with CaptureQueriesContext(connection) as many:
        body = admin_api.get("/api/v1/accounts", params).json()
    assert body["count"] == 23
    assert len(few) == len(many)


def test_a_24_7_policy_with_blank_hours_keeps_the_default_hours(admin_api: Client) -> None:
    """Hours do not count for a 24/7 policy; left blank they keep their defaults."""
    body = {"name": "Always", "always_on": True, "day_start": "", "day_end": ""}
    response = _json(admin_api, "post", POLICIES, body)
    assert response.status_code == 201, response.content
    assert (response.json()["day_start"], response.json()["day_end"]) == ("09:00", "18:00")


def test_patching_a_24_7_policy_s_hours_to_blank_keeps_the_default_hours(
    admin_api: Client,
) -> None:
    policy = _json(admin_api, "post", POLICIES, {"name": "Always", "always_on": True}).json()
    url = f"{POLICIES}/{policy['id']}"
    response = _json(admin_api, "patch", url, {"day_start": "", "day_end": ""})
    assert response.status_code == 200, response.content
    assert (response.json()["day_start"], response.json()["day_end"]) == ("09:00", "18:00")

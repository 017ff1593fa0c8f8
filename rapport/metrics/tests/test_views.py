"""The request figures on the account page and in the directory, and the SLA settings page."""

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Source
from rapport.metrics.models import SlaPolicy
from rapport.metrics.services import account_request_metrics_refresh, sla_policy_create
from rapport.metrics.tests.factories import make_request, request_rate, request_set, request_status
from rapport.users.models import User

pytestmark = pytest.mark.django_db

LIST = reverse("accounts:list")
SLA = reverse("metrics:sla_policies")
T0 = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)


def _text(response: Any) -> str:
    return response.content.decode()


def _rows(response: Any) -> list[str]:
    return re.findall(r'class="account-link" href="/accounts/\d+/">([^<]+)</a>', _text(response))


def _busy(name: str, *, open_: int, closed: int = 0, csat: int | None = None) -> Account:
    account = make_account(name)
    for i in range(open_):
        make_request(account, author_name="Olga", author_email="olga@x.example", sent_at=T0)
        del i
    for _ in range(closed):
        request = make_request(account, sent_at=T0, source=Source.SLACK)
        if csat is not None:
            request_rate(request, csat)
        else:
            request_status(request, "closed")
    return account


# --- the account page -------------------------------------------------------------------------


def test_the_account_page_shows_the_request_figures(admin_client: Client) -> None:
    account = make_account("Acme")
    first = make_request(account, author_name="Ann", author_email="ann@acme.example", sent_at=T0)
    make_request(account, author_name="Ann", author_email="ann@acme.example", sent_at=T0 + HOUR)
    third = make_request(account, author_name="Bo", sent_at=T0 + 2 * HOUR, source=Source.SLACK)
    request_set(first, first_response_at=T0 + datetime.timedelta(minutes=45))
    request_rate(first, 4)
    request_set(first, closed_at=T0 + 3 * HOUR + datetime.timedelta(minutes=20))
    request_status(third, "waiting")
    request_set(third, first_response_due_at=T0 + HOUR)  # unanswered past its due time

    text = _text(admin_client.get(account.get_absolute_url()))
    section = text[text.index('id="requests"') : text.index('id="contacts"')]
    assert "<strong>1</strong> open" in section and "<strong>1</strong> waiting" in section
    assert "<strong>0</strong> on hold" in section and "<strong>1</strong> closed" in section
    assert f'href="/requests/?account={account.pk}&amp;status=open"' in section
    assert "<dt>Top requester</dt><dd>Ann</dd>" in section
    assert "<dt>Top channel source</dt><dd>Email</dd>" in section
    assert "<dt>Avg first response</dt><dd>45m</dd>" in section
    assert "<dt>Avg resolution</dt><dd>3h 20m</dd>" in section
    assert "4.0 / 5" in section and "(1 rating)" in section
    assert "1 response</span>" in section and "0 resolution</span>" in section
    assert section.count('<tr><td><a href="/requests/') == 3


def test_the_account_page_shows_only_the_latest_ten_requests(admin_client: Client) -> None:
    account = make_account("Acme")
    for i in range(12):
        make_request(account, sent_at=T0 + i * HOUR, text=f"Question number {i}")
    text = _text(admin_client.get(account.get_absolute_url()))
    assert "<strong>12</strong> open" in text
    assert text.count('<tr><td><a href="/requests/') == 10


def test_the_account_page_of_a_quiet_account_says_so(member_client: Client) -> None:
    account = make_account("Quiet")
    text = _text(member_client.get(account.get_absolute_url()))
    assert "No requests from this account yet." in text
    assert "<dt>Avg CSAT</dt><dd>—</dd>" in text


def test_the_account_page_query_count_does_not_grow_with_requests(admin_client: Client) -> None:
    account = make_account("Acme")
    make_request(account)
    with CaptureQueriesContext(connection) as one:
        admin_client.get(account.get_absolute_url())
    for _ in range(15):
        make_request(account)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(account.get_absolute_url())
    assert len(one) == len(many)


# --- the directory ----------------------------------------------------------------------------

METRIC_COLUMNS = [
    "name",
    "requests_open",
    "requests_total",
    "requests_last",
    "requests_first_response",
    "requests_resolution",
    "requests_csat",
    "sla_breaches",
]


@pytest.fixture
def directory(admin_client: Client) -> dict[str, Account]:
    admin_client.post(reverse("accounts:columns"), {"columns": METRIC_COLUMNS})
    accounts = {
        "busy": _busy("Busy", open_=3, closed=1, csat=2),
        "calm": _busy("Calm", open_=1, closed=2, csat=5),
        "quiet": make_account("Quiet"),
    }
    late = make_request(accounts["calm"], sent_at=T0 - 30 * 24 * HOUR)
    request_set(late, first_response_due_at=T0 - 29 * 24 * HOUR)
    account_request_metrics_refresh()
    accounts["new"] = make_account("New")  # not refreshed yet: no row
    return accounts


def test_the_directory_shows_the_request_columns(
    admin_client: Client, directory: dict[str, Account]
) -> None:
    text = _text(admin_client.get(LIST, {"sort": "name"}))
    for label in ("Open requests", "Total requests", "Last request", "Avg CSAT", "SLA breaches"):
        assert f">{label}<" in text
    busy = directory["busy"]
    assert f'href="/requests/?account={busy.pk}&amp;status=open"' in text
    assert 'title="1 rating">2.0</span>' in text
    assert 'title="1 first response, 0 resolution">1</span>' in text


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-requests_open", ["Busy", "Calm", "Quiet", "New"]),
        ("requests_open", ["Quiet", "Calm", "Busy", "New"]),
        ("-requests_total", ["Calm", "Busy", "Quiet", "New"]),
        ("requests_csat", ["Busy", "Calm", "Quiet", "New"]),
        ("-requests_csat", ["Calm", "Busy", "Quiet", "New"]),
        ("-sla_breaches", ["Calm", "Quiet", "Busy", "New"]),
        ("-requests_last", ["Calm", "Busy", "Quiet", "New"]),
    ],
)
def test_the_directory_sorts_by_request_figures(
    admin_client: Client, directory: dict[str, Account], sort: str, expected: list[str]
) -> None:
    assert _rows(admin_client.get(LIST, {"sort": sort})) == expected


def test_sorted_by_a_figure_an_account_without_figures_yet_comes_last(
    admin_client: Client, directory: dict[str, Account]
) -> None:
    for sort in ("-requests_open", "requests_open"):
        assert _rows(admin_client.get(LIST, {"sort": sort}))[-1] == "New"
    account_request_metrics_refresh([directory["new"].pk])
    rows = _rows(admin_client.get(LIST, {"sort": "-requests_open"}))
    assert rows == ["Busy", "Calm", "New", "Quiet"]  # no open request: newest id first


def test_a_page_sorted_by_a_figure_runs_into_the_accounts_without_figures(
    admin_client: Client, directory: dict[str, Account]
) -> None:
    for i in range(3):
        make_account(f"Fresh {i}")
    body = admin_client.get(
        "/api/v1/accounts", {"sort": "-requests_open", "limit": "2", "offset": "2"}
    )
    assert [item["name"] for item in body.json()["items"]] == ["Quiet", "Fresh 2"]
    body = admin_client.get(
        "/api/v1/accounts", {"sort": "-requests_open", "limit": "3", "offset": "4"}
    )
    assert [item["name"] for item in body.json()["items"]] == ["Fresh 1", "Fresh 0", "New"]
    assert body.json()["count"] == 7


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"has_open_requests": "yes"}, ["Busy", "Calm"]),
        ({"has_open_requests": "no"}, ["New", "Quiet"]),
        ({"open_requests_min": "3"}, ["Busy"]),
        ({"open_requests_min": "2"}, ["Busy", "Calm"]),
        ({"csat_below": "3"}, ["Busy"]),
        ({"has_sla_breaches": "yes"}, ["Calm"]),
        ({"has_sla_breaches": "no"}, ["Busy", "New", "Quiet"]),
        ({"last_request_after": "2026-11-02"}, ["Busy", "Calm"]),
        ({"last_request_before": "2026-11-02"}, []),
    ],
)
def test_the_directory_filters_on_request_figures(
    admin_client: Client, directory: dict[str, Account], params: dict[str, str], expected: list[str]
) -> None:
    response = admin_client.get(LIST, params)
    assert response.status_code == 200
    assert _rows(response) == expected


def test_a_bad_request_filter_is_refused_with_its_reason(
    admin_client: Client, directory: dict[str, Account]
) -> None:
    response = admin_client.get(LIST, {"open_requests_min": "many"})
    assert response.status_code == 400
    assert "open_requests_min must be a whole number" in _text(response)


def test_the_directory_with_request_columns_issues_a_constant_number_of_queries(
    admin_client: Client, django_assert_num_queries: Any
) -> None:
    admin_client.post(reverse("accounts:columns"), {"columns": METRIC_COLUMNS})
    for i in range(3):
        _busy(f"First {i}", open_=1)
    account_request_metrics_refresh()
    with CaptureQueriesContext(connection) as few:
        admin_client.get(LIST, {"sort": "-requests_open", "has_open_requests": "yes"})
    for i in range(20):
        _busy(f"Second {i}", open_=2)
    account_request_metrics_refresh()
    with django_assert_num_queries(len(few)):
        response = admin_client.get(LIST, {"sort": "-requests_open", "has_open_requests": "yes"})
    assert len(_rows(response)) == 23


# --- the SLA settings page --------------------------------------------------------------------


def _policy_form(**values: Any) -> dict[str, Any]:
    form = {
        "name": "Standard",
        "tier": "",
        "first_response_minutes": "240",
        "resolution_minutes": "",
        "timezone": "Europe/Paris",
        "weekdays": ["0", "1", "2", "3", "4"],
        "day_start": "09:00",
        "day_end": "18:00",
    }
    return form | values


def test_an_admin_adds_edits_and_deletes_a_policy(admin_client: Client) -> None:
    response = admin_client.post(SLA, _policy_form())
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert (policy.first_response_minutes, policy.timezone) == (240, "Europe/Paris")
    text = _text(admin_client.get(SLA))
    assert "Standard" in text and "Mon, Tue, Wed, Thu, Fri 09:00–18:00 (Europe/Paris)" in text

    prefixed = {f"p{policy.pk}-{k}": v for k, v in _policy_form(always_on="on").items()}
    update = reverse("metrics:sla_policy_update", args=[policy.pk])
    assert admin_client.post(update, prefixed).status_code == 302
    assert SlaPolicy.objects.get().always_on
    delete = reverse("metrics:sla_policy_delete", args=[policy.pk])
    assert admin_client.post(delete).status_code == 302
    assert not SlaPolicy.objects.exists()


def test_a_bad_policy_form_shows_the_error_next_to_its_field(admin_client: Client) -> None:
    response = admin_client.post(SLA, _policy_form(timezone="Nowhere/Land"))
    assert response.status_code == 400
    assert "is not a known time zone" in _text(response)
    assert not SlaPolicy.objects.exists()


def test_a_second_default_policy_is_a_conflict(admin_client: Client, admin_user: User) -> None:
    sla_policy_create(actor=admin_user, name="Default")
    response = admin_client.post(SLA, _policy_form(name="Other"))
    assert response.status_code == 409
    assert "There is already a policy" in _text(response)


def test_a_member_reads_the_policies_but_cannot_change_them(
    member_client: Client, admin_user: User
) -> None:
    policy = sla_policy_create(actor=admin_user, name="Standard", first_response_minutes=60)
    text = _text(member_client.get(SLA))
    assert "Standard" in text and "60 min" in text
    assert "New policy" not in text and "Save policy" not in text
    assert member_client.post(SLA, _policy_form(tier="Gold")).status_code == 403
    update = reverse("metrics:sla_policy_update", args=[policy.pk])
    assert member_client.post(update, {}).status_code == 403
    delete = reverse("metrics:sla_policy_delete", args=[policy.pk])
    assert member_client.post(delete).status_code == 403
    assert SlaPolicy.objects.count() == 1


def test_the_sla_page_needs_a_login() -> None:
    response = Client().get(SLA)
    assert response.status_code == 302 and "/login/" in response["Location"]

"""The request figures: each one computed in SQL on a small hand-built set, and refreshed."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.accounts.models import Account
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Source
from rapport.metrics.models import AccountRequestMetrics
from rapport.metrics.selectors import account_request_metrics_live
from rapport.metrics.services import (
    account_request_metrics_refresh,
    metrics_refresh_all,
    metrics_refresh_changed,
)
from rapport.metrics.tests.factories import make_request, request_rate, request_set, request_status
from rapport.requests.models import Request

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


def _metrics(account: Account) -> AccountRequestMetrics:
    return AccountRequestMetrics.objects.get(account=account)


@pytest.fixture
def acme() -> Account:
    """An account with a hand-built set of requests whose figures are known."""
    account = make_account("Acme")
    ann = contact_add_to_account(account=account, email="ann@acme.example", name="Ann")
    # Ann asks three times (one by Slack), Bob twice, Cy once.
    a1 = make_request(account, requester=ann, sent_at=T0)
    a2 = make_request(account, requester=ann, sent_at=T0 + 10 * MINUTE, source=Source.SLACK)
    a3 = make_request(account, requester=ann, sent_at=T0 + 20 * MINUTE)
    b1 = make_request(account, author_email="bob@acme.example", author_name="Bob", sent_at=T0)
    b2 = make_request(
        account, author_email="bob@acme.example", author_name="Bob", sent_at=T0 + MINUTE
    )
    c1 = make_request(account, author_email="cy@acme.example", author_name="Cy", sent_at=T0)
    # First responses after 10 and 30 minutes: average 20 minutes.
    request_set(a1, first_response_at=T0 + 10 * MINUTE)
    request_set(b1, first_response_at=T0 + 30 * MINUTE)
    # States: a1 closed after 2 hours, b1 closed after 4 (average 3 hours), a2 waiting,
    # a3 pending, b2 and c1 open.
    request_rate(a1, 5)
    request_rate(b1, 2)
    request_set(a1, closed_at=T0 + 2 * 60 * MINUTE)
    request_set(b1, closed_at=T0 + 4 * 60 * MINUTE)
    request_status(a2, "waiting")
    request_status(a3, "pending")
    del b2, c1
    return account


def test_each_figure_is_computed_from_the_accounts_requests(acme: Account) -> None:
    account_request_metrics_refresh([acme.pk])
    m = _metrics(acme)
    assert (m.open_count, m.waiting_count, m.pending_count, m.closed_count) == (2, 1, 1, 2)
    assert m.total_count == 6
    assert m.last_request_at == T0 + 20 * MINUTE
    assert m.top_requester_name == "Ann"
    assert m.top_requester is not None and m.top_requester.email == "ann@acme.example"
    assert m.top_source == Source.EMAIL  # five by email, one by Slack
    assert m.avg_first_response_seconds == pytest.approx(20 * 60, abs=0.01)
    assert m.avg_resolution_seconds == pytest.approx(3 * 3600, abs=0.01)
    assert m.avg_csat == pytest.approx(3.5)
    assert m.csat_count == 2
    assert (m.first_response_breaches, m.resolution_breaches, m.breach_count) == (0, 0, 0)


def test_the_live_figures_equal_the_refreshed_ones(acme: Account) -> None:
    account_request_metrics_refresh([acme.pk])
    stored = _metrics(acme)
    live = account_request_metrics_live(acme.pk)
    for name in (
        "open_count",
        "waiting_count",
        "pending_count",
        "closed_count",
        "total_count",
        "last_request_at",
        "top_requester_id",
        "top_requester_name",
        "top_source",
        "csat_count",
        "breach_count",
    ):
        assert getattr(live, name) == getattr(stored, name), name
    assert live.avg_csat == pytest.approx(stored.avg_csat)
    assert live.avg_first_response_seconds == pytest.approx(stored.avg_first_response_seconds)


def test_an_account_without_requests_gets_zeros_and_no_averages() -> None:
    quiet = make_account("Quiet")
    account_request_metrics_refresh([quiet.pk])
    m = _metrics(quiet)
    assert (m.total_count, m.open_count, m.breach_count, m.csat_count) == (0, 0, 0, 0)
    assert m.last_request_at is None and m.avg_csat is None and m.avg_resolution_seconds is None
    assert m.top_requester_name == "" and m.top_source == ""


def test_requests_of_other_accounts_and_without_account_do_not_count(acme: Account) -> None:
    other = make_account("Other")
    make_request(other, sent_at=T0)
    make_request(None, sent_at=T0)
    account_request_metrics_refresh()
    assert _metrics(acme).total_count == 6
    assert _metrics(other).total_count == 1
    assert AccountRequestMetrics.objects.count() == 2


def test_a_tie_for_top_requester_goes_to_the_most_recent_one() -> None:
    account = make_account()
    make_request(account, author_email="old@x.example", author_name="Old", sent_at=T0)
    make_request(account, author_email="new@x.example", author_name="New", sent_at=T0 + MINUTE)
    account_request_metrics_refresh([account.pk])
    assert _metrics(account).top_requester_name == "New"
    assert _metrics(account).top_requester is None  # not a known contact


def test_a_tie_for_top_source_goes_to_the_most_recent_one() -> None:
    account = make_account()
    make_request(account, source=Source.EMAIL, sent_at=T0)
    make_request(account, source=Source.WEB_CHAT, sent_at=T0 + MINUTE)
    account_request_metrics_refresh([account.pk])
    assert _metrics(account).top_source == Source.WEB_CHAT


def test_a_requester_is_one_person_whatever_the_case_of_their_email() -> None:
    account = make_account()
    make_request(account, author_email="Sam@x.example", author_name="Sam", sent_at=T0)
    make_request(account, author_email="sam@x.example", author_name="Sam", sent_at=T0)
    make_request(account, author_email="zoe@x.example", author_name="Zoe", sent_at=T0 + MINUTE)
    account_request_metrics_refresh([account.pk])
    assert _metrics(account).top_requester_name == "Sam"


# --- SLA breaches at their boundaries ---------------------------------------------------------


def _due(account: Account, **values: Any) -> Request:
    request = make_request(account, sent_at=T0)
    return request_set(request, **values)


def _breaches(account: Account, now: datetime.datetime) -> tuple[int, int]:
    account_request_metrics_refresh([account.pk], now=now)
    m = _metrics(account)
    return m.first_response_breaches, m.resolution_breaches


def test_a_response_on_its_due_time_is_no_breach_and_a_second_later_is() -> None:
    on_time, late = make_account(), make_account()
    due = T0 + 60 * MINUTE
    _due(on_time, first_response_due_at=due, first_response_at=due)
    _due(late, first_response_due_at=due, first_response_at=due + datetime.timedelta(seconds=1))
    now = T0 + 10 * 60 * MINUTE
    assert _breaches(on_time, now) == (0, 0)
    assert _breaches(late, now) == (1, 0)


def test_an_unanswered_request_breaches_only_once_its_due_time_has_passed() -> None:
    account = make_account()
    due = T0 + 60 * MINUTE
    _due(account, first_response_due_at=due)
    assert _breaches(account, due - datetime.timedelta(seconds=1)) == (0, 0)
    assert _breaches(account, due) == (0, 0)
    assert _breaches(account, due + datetime.timedelta(seconds=1)) == (1, 0)


def test_a_resolution_on_its_due_time_is_no_breach_and_a_second_later_is() -> None:
    on_time, late = make_account(), make_account()
    due = T0 + 8 * 60 * MINUTE
    _due(on_time, status="closed", resolution_due_at=due, closed_at=due)
    _due(
        late, status="closed", resolution_due_at=due, closed_at=due + datetime.timedelta(seconds=1)
    )
    now = T0 + 100 * 60 * MINUTE
    assert _breaches(on_time, now) == (0, 0)
    assert _breaches(late, now) == (0, 1)


def test_an_open_request_breaches_resolution_once_its_due_time_has_passed() -> None:
    account = make_account()
    due = T0 + 8 * 60 * MINUTE
    _due(account, resolution_due_at=due, first_response_at=T0 + MINUTE)
    assert _breaches(account, due) == (0, 0)
    assert _breaches(account, due + datetime.timedelta(seconds=1)) == (0, 1)


def test_a_request_without_targets_never_breaches() -> None:
    account = make_account()
    make_request(account, sent_at=T0)
    assert _breaches(account, T0 + datetime.timedelta(days=365)) == (0, 0)


# --- refreshing -------------------------------------------------------------------------------


def _accounts_with_requests(n: int) -> list[int]:
    ids = []
    for i in range(n):
        account = make_account()
        make_request(account, sent_at=T0 + i * MINUTE)
        ids.append(account.pk)
    return ids


def _statements(run: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


def test_the_refresh_runs_the_same_number_of_queries_for_5_or_50_accounts() -> None:
    five = _accounts_with_requests(5)
    fifty = five + _accounts_with_requests(45)
    few = _statements(lambda: account_request_metrics_refresh(five))
    many = _statements(lambda: account_request_metrics_refresh(fifty))
    everyone = _statements(lambda: account_request_metrics_refresh())
    assert few == many == everyone
    assert AccountRequestMetrics.objects.filter(total_count=1).count() == 50


def test_the_incremental_refresh_runs_a_constant_number_of_queries() -> None:
    _accounts_with_requests(5)
    metrics_refresh_changed()
    _accounts_with_requests(5)
    few = _statements(metrics_refresh_changed)
    _accounts_with_requests(50)
    many = _statements(metrics_refresh_changed)
    assert few == many


def test_the_first_incremental_run_refreshes_every_account() -> None:
    ids = _accounts_with_requests(3)
    assert metrics_refresh_changed() == 3
    assert set(AccountRequestMetrics.objects.values_list("account_id", flat=True)) == set(ids)


def test_the_incremental_refresh_picks_up_changed_requests_and_new_accounts() -> None:
    account = make_account()
    request = make_request(account)
    quiet = make_account()
    later = timezone.now() + datetime.timedelta(hours=1)
    metrics_refresh_changed(now=later - datetime.timedelta(minutes=1))
    assert _metrics(account).open_count == 1
    request_status(request, "closed")
    new = make_account()
    Request.objects.filter(pk=request.pk).update(updated_at=later)
    metrics_refresh_changed(now=later + MINUTE)
    assert _metrics(account).open_count == 0 and _metrics(account).closed_count == 1
    assert _metrics(new).total_count == 0
    # The quiet account was not touched again.
    assert _metrics(quiet).refreshed_at < _metrics(account).refreshed_at


def test_the_incremental_refresh_sees_a_breach_that_starts_by_the_clock_alone() -> None:
    account = make_account()
    request = make_request(account, sent_at=T0)
    due = timezone.now() + datetime.timedelta(hours=2)
    request_set(request, first_response_due_at=due)
    Request.objects.filter(pk=request.pk).update(updated_at=T0)  # untouched since
    metrics_refresh_changed(now=due - datetime.timedelta(hours=1))
    assert _metrics(account).first_response_breaches == 0
    metrics_refresh_changed(now=due + MINUTE)
    assert _metrics(account).first_response_breaches == 1


def test_a_full_refresh_corrects_a_request_moved_to_another_account() -> None:
    first, second = make_account(), make_account()
    request = make_request(first)
    metrics_refresh_all()
    Request.objects.filter(pk=request.pk).update(account=second)
    metrics_refresh_all()
    assert _metrics(first).total_count == 0 and _metrics(second).total_count == 1

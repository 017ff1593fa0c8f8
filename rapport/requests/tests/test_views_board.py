"""The board, its column pages and moves, and My queue (`views_board.py`)."""

import datetime
import html as html_lib
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import Account
from rapport.inbox.models import Channel
from rapport.requests import views_board
from rapport.requests.models import Request, RequestActivity, RequestStatus
from rapport.requests.tests.conftest import MakeRequest
from rapport.requests.tests.kit import page_text, slack_post
from rapport.users.models import User

pytestmark = pytest.mark.django_db

BOARD = reverse("requests:board")
# Session, user, one GROUP BY for the counts, one LIMIT query per column, the members.
BOARD_QUERIES = 8


def _column(response: Any, status: str) -> str:
    """Return the HTML of one board column."""
    html = page_text(response)
    match = re.search(
        rf'<section class="board-column board-column-{status}".*?</section>', html, re.S
    )
    assert match, f"no {status} column"
    return match.group(0)


def _count(response: Any, status: str) -> int:
    match = re.search(r"data-count[^>]*>(\d+)<", _column(response, status))
    assert match
    return int(match.group(1))


def _titles(response: Any, status: str) -> list[str]:
    found = re.findall(
        r'class="board-card-title" href="[^"]+">([^<]+)</a>', _column(response, status)
    )
    return [html_lib.unescape(title) for title in found]


# --- the board ---------------------------------------------------------------------------


def test_board_shows_a_column_per_state_with_its_cards_and_counts(
    member_client: Client, make_request: MakeRequest, acme: Account, agent: User
) -> None:
    make_request("Export fails", account=acme, assignee=agent)
    make_request("Invoice is wrong", status=RequestStatus.WAITING)
    make_request("SSO setup", status=RequestStatus.PENDING)
    make_request("Old question", status=RequestStatus.CLOSED)
    make_request("Another open one")

    response = member_client.get(BOARD)

    assert response.status_code == 200
    page = page_text(response)
    headings = re.findall(r'<h2 id="column-\w+-title">([^<]+)</h2>', page)
    assert headings == ["Open", "Waiting on customer", "On hold", "Closed"]
    assert _titles(response, "open") == ["Another open one", "Export fails"]
    assert _titles(response, "waiting") == ["Invoice is wrong"]
    assert _titles(response, "pending") == ["SSO setup"]
    assert _titles(response, "closed") == ["Old question"]
    assert [_count(response, s) for s in ("open", "waiting", "pending", "closed")] == [2, 1, 1, 1]
    card = _column(response, "open")
    assert "Acme" in card and "Jane Customer" in card and "Alex Agent" in card
    assert "API" in card  # the source


def test_board_links_in_the_nav(member_client: Client) -> None:
    page = page_text(member_client.get(BOARD))
    assert f'href="{BOARD}" class="active" aria-current="page">Requests</a>' in page
    assert f'href="{reverse("requests:mine")}">My queue</a>' in page


def test_board_filters_by_assignee_and_counts_follow(
    member_client: Client, make_request: MakeRequest, member_user: User, agent: User
) -> None:
    make_request("Mine open", assignee=member_user)
    make_request("Mine closed", assignee=member_user, status=RequestStatus.CLOSED)
    make_request("Agent's", assignee=agent)
    make_request("Nobody's")

    mine = member_client.get(BOARD, {"assignee": "me"})
    assert _titles(mine, "open") == ["Mine open"]
    assert _titles(mine, "closed") == ["Mine closed"]
    assert [_count(mine, s) for s in ("open", "waiting", "pending", "closed")] == [1, 0, 0, 1]
    assert '<option value="me" selected>Me</option>' in page_text(mine)

    unassigned = member_client.get(BOARD, {"assignee": "unassigned"})
    assert _titles(unassigned, "open") == ["Nobody's"]
    by_id = member_client.get(BOARD, {"assignee": str(agent.pk)})
    assert _titles(by_id, "open") == ["Agent's"]
    both = member_client.get(BOARD + f"?assignee={agent.pk}&assignee=unassigned")
    assert _titles(both, "open") == ["Nobody's", "Agent's"]


def test_board_filters_by_account_channel_and_source(
    member_client: Client,
    make_request: MakeRequest,
    acme: Account,
    globex: Account,
    channel: Channel,
    agent: User,
) -> None:
    make_request("Acme ticket", account=acme)
    make_request("Globex ticket", account=globex, email="sam@globex.example", name="Sam")
    make_request("Slack question", channel=channel)

    by_account = member_client.get(BOARD, {"account": str(globex.pk)})
    assert _titles(by_account, "open") == ["Globex ticket"]
    assert "Stop filtering by Globex" in page_text(by_account)
    by_channel = member_client.get(BOARD, {"channel": str(channel.pk)})
    assert _titles(by_channel, "open") == ["Slack question"]
    by_source = member_client.get(BOARD, {"source": "api"})
    assert _titles(by_source, "open") == ["Globex ticket", "Acme ticket"]
    searched = member_client.get(BOARD, {"q": "globex"})
    assert _titles(searched, "open") == ["Globex ticket"]
    assert _count(searched, "open") == 1


def test_a_bad_filter_answers_400_with_the_reason(member_client: Client) -> None:
    response = member_client.get(BOARD, {"assignee": "someone"})
    assert response.status_code == 400
    assert "assignee must be a member id" in page_text(response)


@pytest.mark.parametrize("name", ["channel", "account", "assignee"])
def test_a_superscript_digit_in_a_filter_answers_400_not_500(
    member_client: Client, name: str
) -> None:
    response = member_client.get(BOARD, {name: "²"})
    assert response.status_code == 400
    assert f"{name} must be" in page_text(response)


def test_pick_offers_accounts_and_channels_as_board_links(
    member_client: Client, acme: Account, channel: Channel
) -> None:
    accounts = page_text(
        member_client.get(reverse("requests:pick"), {"kind": "account", "pick_q": "acm"})
    )
    assert f'href="{BOARD}?account={acme.pk}"' in accounts
    channels = page_text(
        member_client.get(
            reverse("requests:pick"),
            {"kind": "channel", "pick_q": "support", "source": "slack"},
        )
    )
    assert f'href="{BOARD}?source=slack&amp;channel={channel.pk}"' in channels


def test_load_more_pages_through_one_column(
    member_client: Client, make_request: MakeRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views_board, "PAGE_SIZE", 2)
    start = timezone.now() - datetime.timedelta(hours=1)
    for n in range(5):
        make_request(f"Open {n}", at=start + datetime.timedelta(minutes=n))
    make_request("Closed 1", status=RequestStatus.CLOSED, at=start)

    board = member_client.get(BOARD, {"source": "api"})
    assert _titles(board, "open") == ["Open 4", "Open 3"]
    assert _count(board, "open") == 5
    more = re.search(
        r'class="board-more"><a class="btn btn-sm btn-block" href="([^"]+)"', _column(board, "open")
    )
    assert more and "source=api" in more.group(1)
    assert "board-more" not in _column(board, "closed")

    seen = []
    url = more.group(1).replace("&amp;", "&")
    while url:
        page = member_client.get(url)
        assert page.status_code == 200
        seen += re.findall(r'class="board-card-title" href="[^"]+">([^<]+)</a>', page_text(page))
        found = re.search(r'href="([^"]+)" hx-get', page_text(page))
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert seen == ["Open 2", "Open 1", "Open 0"]


def test_a_forged_cursor_is_refused(member_client: Client) -> None:
    response = member_client.get(reverse("requests:column", args=["open"]), {"after": "nonsense"})
    assert response.status_code == 400
    assert reverse("requests:column", args=["nope"]).startswith("/requests/column/")
    assert member_client.get(reverse("requests:column", args=["nope"])).status_code == 404


def _board_queries(client: Client, **params: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(BOARD, params)
    assert response.status_code == 200
    return len(queries)


def test_board_queries_do_not_grow_with_the_cards(
    member_client: Client,
    make_request: MakeRequest,
    acme: Account,
    channel: Channel,
    agent: User,
) -> None:
    states = [
        RequestStatus.OPEN,
        RequestStatus.WAITING,
        RequestStatus.PENDING,
        RequestStatus.CLOSED,
    ]
    for n in range(10):
        make_request(f"Question {n}", status=states[n % 4], assignee=agent, account=acme)
    assert _board_queries(member_client) == BOARD_QUERIES
    for n in range(40):
        make_request(f"More {n}", status=states[n % 4], assignee=agent if n % 2 else None)
    make_request("In a channel", channel=channel)
    assert Request.objects.count() == 51
    assert _board_queries(member_client) == BOARD_QUERIES
    # A filter adds nothing but the chip of the picked account (and an empty column
    # needs no query of its own).
    assert _board_queries(member_client, assignee=str(agent.pk), source="api") == BOARD_QUERIES
    assert _board_queries(member_client, account=str(acme.pk)) == BOARD_QUERIES + 1


# --- moves from the board ----------------------------------------------------------------


def test_moving_a_card_changes_the_state_and_records_it(
    member_client: Client, make_request: MakeRequest, member_user: User
) -> None:
    request = make_request("Export fails")
    response = member_client.post(reverse("requests:move", args=[request.pk]), {"status": "closed"})
    assert response.status_code == 200
    assert response.json() == {"id": request.pk, "status": "closed", "label": "Closed"}
    request.refresh_from_db()
    assert request.status == RequestStatus.CLOSED
    assert request.closed_by == member_user
    activity = RequestActivity.objects.filter(request=request, kind="status").get()
    assert activity.data == {"from": "open", "to": "closed", "via": "board"}
    # A JSON body works too.
    response = member_client.post(
        reverse("requests:move", args=[request.pk]),
        {"status": "waiting"},
        content_type="application/json",
    )
    assert response.json()["status"] == "waiting"


def test_a_bad_move_answers_json_errors_and_changes_nothing(
    member_client: Client, client: Client, make_request: MakeRequest
) -> None:
    request = make_request("Export fails")
    url = reverse("requests:move", args=[request.pk])
    response = member_client.post(url, {"status": "done"})
    assert response.status_code == 400
    assert response.json() == {"error": "'done' is not a request state."}
    missing = member_client.post(reverse("requests:move", args=[99999]), {"status": "closed"})
    assert missing.status_code == 404 and "error" in missing.json()
    anonymous = client.post(url, {"status": "closed"})
    assert anonymous.status_code == 401
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN


def test_a_move_needs_the_csrf_token(member_user: User, make_request: MakeRequest) -> None:
    request = make_request("Export fails")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member_user)
    response = strict.post(reverse("requests:move", args=[request.pk]), {"status": "closed"})
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN


# --- my queue ----------------------------------------------------------------------------


def test_my_queue_lists_my_requests_that_are_not_closed_oldest_first(
    member_client: Client, make_request: MakeRequest, member_user: User, agent: User
) -> None:
    start = timezone.now() - datetime.timedelta(days=2)
    make_request("Newer", assignee=member_user, at=start + datetime.timedelta(hours=5))
    make_request("Older", assignee=member_user, status=RequestStatus.WAITING, at=start)
    make_request("Done", assignee=member_user, status=RequestStatus.CLOSED, at=start)
    make_request("Not mine", assignee=agent, at=start)

    response = member_client.get(reverse("requests:mine"))

    titles = re.findall(r'class="conversation-link" href="[^"]+">([^<]+)</a>', page_text(response))
    assert titles == ["Older", "Newer"]
    assert "2</strong> requests in your queue" in page_text(response)


def test_queue_quick_action_closes_and_comes_back(
    member_client: Client, make_request: MakeRequest, member_user: User
) -> None:
    request = make_request("Export fails", assignee=member_user)
    mine = reverse("requests:mine")
    response = member_client.post(
        reverse("requests:act", args=[request.pk]), {"action": "close", "next": mine}
    )
    assert response.status_code == 302 and response["Location"] == mine
    request.refresh_from_db()
    assert request.status == RequestStatus.CLOSED
    page = member_client.get(mine)
    assert "Closed the request." in page_text(page)
    assert "Your queue is empty" in page_text(page)


def test_an_outside_next_url_is_ignored(member_client: Client, make_request: MakeRequest) -> None:
    request = make_request("Export fails")
    response = member_client.post(
        reverse("requests:act", args=[request.pk]),
        {"action": "hold", "next": "https://evil.example/"},
    )
    assert response["Location"] == request.get_absolute_url()


# --- what the pages cost ------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_queue_column_and_request_pages_issue_a_fixed_number_of_queries(
    member_client: Client,
    make_request: MakeRequest,
    member_user: User,
    channel: Channel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views_board, "PAGE_SIZE", 2)
    first = make_request("First", assignee=member_user, channel=channel)
    for n in range(3):
        make_request(f"Question {n}", assignee=member_user)
    board = page_text(member_client.get(BOARD))
    more = re.search(r'class="board-more"><a class="btn btn-sm btn-block" href="([^"]+)"', board)
    assert more
    column_url = more.group(1).replace("&amp;", "&")
    counts = (
        _queries(member_client, reverse("requests:mine")),
        _queries(member_client, column_url),
        _queries(member_client, first.get_absolute_url()),
    )
    assert first.message is not None
    for n in range(3):
        make_request(f"More {n}", assignee=member_user, channel=channel)
        slack_post(channel, f"Customer reply {n}", thread=first.message)
        slack_post(channel, f"Team reply {n}", thread=first.message, member=member_user)
    assert "Team reply 2" in page_text(member_client.get(first.get_absolute_url()))
    # Replies and grouped messages make the thread and timeline longer, not the queries.
    assert counts == (
        _queries(member_client, reverse("requests:mine")),
        _queries(member_client, column_url),
        _queries(member_client, first.get_absolute_url()),
    )
    # Session and user, then: count and page; one column page; the request, its thread,
    # timeline, the members it names, the members to assign to, the ticketing setting.
    assert counts == (4, 3, 8)


@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({}, "request_status_idx"),
        ({"account": "1"}, "request_account_idx"),
        ({"assignee": "1"}, "request_assignee_idx"),
        ({"assignee": "unassigned"}, "request_assignee_idx"),
        ({"channel": "1"}, "request_channel_idx"),
        ({"source": "slack"}, "request_source_idx"),
    ],
)
def test_a_column_walks_the_index_of_its_filter(params: dict[str, str], index: str) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL picks its index from statistics.")
    from rapport.requests.filters import RequestFilterSet
    from rapport.requests.selectors import board_column

    with CaptureQueriesContext(connection) as queries:
        board_column(RequestFilterSet.from_params(params), "closed", limit=25)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + queries.captured_queries[-1]["sql"])
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert f"USING INDEX {index} (" in plan or f"USING COVERING INDEX {index} (" in plan, plan

"""The request board in Debian's Chromium, driven by Playwright: drag a card to close it.

The fixtures are meant to be reused: `browser` (one Chromium per module), `page` (a
fresh context on the live server that fails the test on any script error or CSP
violation), `slack_api` (Slack's Web API faked on 127.0.0.1 and configured, so the
board's changes reach "Slack" and can be checked), `log_in(page, user)` and
`board_request` (a Slack request in Acme's channel, open and unassigned).
"""

import datetime
import os
import re
from collections.abc import Callable
from typing import Any

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself (building data) must not be refused as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import PASSWORD
from rapport.inbox.models import Channel
from rapport.integrations.slack.tests.conftest import BOT_TOKEN, FakeSlackApi, fake_slack_api
from rapport.requests import views_board
from rapport.requests.models import Request, RequestStatus
from rapport.requests.tests.conftest import MakeRequest
from rapport.users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["fake_slack_api"]  # a fixture, imported to be used here


@pytest.fixture
def slack_api(settings: Any, fake_slack_api: FakeSlackApi) -> FakeSlackApi:
    """Point Rapport's Slack calls at the fake Web API for the test."""
    settings.SLACK_BOT_TOKEN = BOT_TOKEN
    settings.SLACK_API_URL = fake_slack_api.url
    return fake_slack_api


@pytest.fixture
def log_in() -> Callable[[Page, User], None]:
    def log_in(page: Page, user: User) -> None:
        page.goto("/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()

    return log_in


@pytest.fixture
def board_request(
    make_request: MakeRequest, channel: Channel, member_user: User, slack_api: FakeSlackApi
) -> Request:
    """An open, unassigned request from a Slack message in Acme's channel."""
    return make_request("Our CSV export fails since this morning", channel=channel)


def test_dragging_a_card_from_open_to_closed_closes_the_request(
    page: Page,
    log_in: Callable[[Page, User], None],
    member_user: User,
    board_request: Request,
    make_request: MakeRequest,
    slack_api: FakeSlackApi,
) -> None:
    make_request("Invoice total looks wrong", status=RequestStatus.WAITING)
    log_in(page, member_user)
    page.goto("/requests/")

    open_column = page.locator("section[data-status='open']")
    closed_column = page.locator("section[data-status='closed']")
    card = page.locator(f"#request-{board_request.pk}")
    expect(open_column.locator(".board-card")).to_have_count(1)
    expect(closed_column.locator(".board-card")).to_have_count(0)
    expect(open_column.locator("[data-count]")).to_have_text("1")

    card.drag_to(closed_column.locator("[data-dropzone]"))

    expect(closed_column.locator(f"#request-{board_request.pk}")).to_be_visible()
    expect(closed_column.locator("[data-count]")).to_have_text("1")
    expect(open_column.locator("[data-count]")).to_have_text("0")
    expect(card).not_to_have_class(re.compile(r"\bsaving\b"))
    expect(page.locator("#board-message")).to_be_hidden()

    # The move was saved: it is still in Closed after a reload, and closed in the database.
    page.reload()
    expect(closed_column.locator(f"#request-{board_request.pk}")).to_be_visible()
    expect(open_column.locator(".board-card")).to_have_count(0)
    board_request.refresh_from_db()
    assert board_request.status == RequestStatus.CLOSED
    assert board_request.closed_by == member_user
    # Closing reached Slack: the closed emoji on the customer's message.
    assert board_request.message is not None
    _, channel_id, ts = board_request.message.external_id.split(":")
    assert (channel_id, ts, "white_check_mark") in slack_api.reactions


def test_a_refused_move_snaps_back_with_the_reason(
    page: Page,
    log_in: Callable[[Page, User], None],
    member_user: User,
    board_request: Request,
) -> None:
    log_in(page, member_user)
    page.goto("/requests/")
    card = page.locator(f"#request-{board_request.pk}")
    expect(card).to_be_visible()
    # The member is deactivated meanwhile (another tab, an admin): the service refuses.
    User.objects.filter(pk=member_user.pk).update(is_active=False)

    card.drag_to(page.locator("section[data-status='pending'] [data-dropzone]"))

    expect(page.locator("#board-message")).to_be_visible()
    expect(page.locator("#board-message")).not_to_be_empty()
    expect(page.locator(f"section[data-status='open'] #request-{board_request.pk}")).to_be_visible()
    expect(page.locator("section[data-status='open'] [data-count]")).to_have_text("1")
    expect(page.locator("section[data-status='pending'] [data-count]")).to_have_text("0")
    board_request.refresh_from_db()
    assert board_request.status == RequestStatus.OPEN


def test_load_more_appends_the_next_page_of_one_column(
    page: Page,
    log_in: Callable[[Page, User], None],
    member_user: User,
    make_request: MakeRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views_board, "PAGE_SIZE", 2)
    start = timezone.now() - datetime.timedelta(hours=3)
    for n in range(3):
        make_request(f"Question {n}", at=start + datetime.timedelta(minutes=n))
    make_request("Done already", status=RequestStatus.CLOSED)
    log_in(page, member_user)
    page.goto("/requests/")

    open_cards = page.locator("section[data-status='open'] .board-card")
    expect(open_cards).to_have_count(2)
    expect(page.locator("section[data-status='closed'] .board-more")).to_have_count(0)
    page.locator("section[data-status='open']").get_by_role("link", name="Load more").click()

    expect(open_cards).to_have_count(3)
    expect(open_cards.nth(2)).to_contain_text("Question 0")
    expect(page.locator("section[data-status='open'] .board-more")).to_have_count(0)
    expect(page.locator("section[data-status='open'] [data-count]")).to_have_text("3")


def test_filters_apply_as_they_change_and_make_a_shareable_url(
    page: Page,
    log_in: Callable[[Page, User], None],
    member_user: User,
    make_request: MakeRequest,
) -> None:
    make_request("Invoice total looks wrong", assignee=member_user)
    make_request("Export fails")
    log_in(page, member_user)
    page.goto("/requests/")
    cards = page.locator(".board-card")
    expect(cards).to_have_count(2)

    page.get_by_label("Assignee").select_option("me")
    expect(page).to_have_url(re.compile(r"/requests/\?.*assignee=me"))
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Invoice total looks wrong")

    page.get_by_label("Assignee").select_option("")
    expect(cards).to_have_count(2)
    search = page.get_by_label("Search")
    search.press_sequentially("expo")
    expect(page).to_have_url(re.compile(r"q=expo"))
    expect(cards).to_have_count(1)
    expect(search).to_be_focused()
    expect(page.locator("section[data-status='open'] [data-count]")).to_have_text("1")

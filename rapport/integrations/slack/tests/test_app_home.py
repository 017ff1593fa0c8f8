"""The App Home: my requests, incoming requests, and the admins' overview."""

from collections.abc import Callable
from typing import Any

import pytest

from rapport.inbox.models import Message
from rapport.integrations.slack.blocks import MAX_VIEW_BLOCKS, app_home_view
from rapport.integrations.slack.selectors import HOME_LIST_LIMIT, app_home_data
from rapport.integrations.slack.tests.conftest import (
    ADMIN_SLACK,
    MEMBER_SLACK,
    FakeSlackApi,
    Response,
    Workspace,
    action_ids,
    all_text,
    payload,
)
from rapport.requests.models import Request, RequestOrigin
from rapport.requests.services import (
    request_assign,
    request_close,
    request_create,
    request_hold,
)

pytestmark = pytest.mark.django_db

Deliver = Callable[..., Response]


def home_opened(user: str, tab: str = "home") -> dict[str, Any]:
    body = payload("app_home_opened")
    body["event"].update(user=user, tab=tab)
    return body


def published(slack: FakeSlackApi, user: str) -> dict[str, Any]:
    [call] = slack.asked("views.publish")
    assert call["user_id"] == user
    view: dict[str, Any] = call["view"]
    assert view["type"] == "home"
    return view


@pytest.fixture
def requests(workspace: Workspace, customer_message: Callable[..., Message]) -> list[Request]:
    """Three requests: one assigned to Max, one unassigned, one closed by Max."""
    made = [
        request_create(message=customer_message(text), origin=RequestOrigin.DETECTED)
        for text in ("Mine: exports fail", "Incoming: invoices are wrong", "Closed: SSO is down")
    ]
    request_assign(request=made[0], assignee=workspace.member, actor=workspace.admin)
    request_assign(request=made[2], assignee=workspace.member, actor=workspace.admin)
    request_close(request=made[2], actor=workspace.member)
    return made


def test_the_app_home_lists_my_open_requests_and_the_incoming_ones(
    slack: FakeSlackApi, requests: list[Request], deliver: Deliver
) -> None:
    assert deliver(home_opened(MEMBER_SLACK)).status_code == 200
    view = published(slack, MEMBER_SLACK)
    seen = all_text(view["blocks"])
    mine, incoming = seen.split("Incoming requests")
    assert "My requests (1)" in mine and "Mine: exports fail" in mine
    assert "(1)" in incoming.splitlines()[0] and "Invoices are wrong".lower() in incoming.lower()
    assert "Closed: SSO is down" not in seen
    assert "Team overview" not in seen  # admins only
    # Each listed request has its actions; an incoming one can be taken.
    assert action_ids(view["blocks"]).count("request_close") == 2
    assert action_ids(view["blocks"]).count("request_take") == 1


def test_admins_also_see_the_team_overview(
    slack: FakeSlackApi, workspace: Workspace, requests: list[Request], deliver: Deliver
) -> None:
    request_hold(request=requests[1], actor=workspace.admin)
    deliver(home_opened(ADMIN_SLACK))
    seen = all_text(published(slack, ADMIN_SLACK)["blocks"])
    assert "My requests (0)" in seen
    assert "Team overview" in seen
    assert "Max Member: 1" in seen and "Unassigned: 1" in seen
    assert "On hold (1)" in seen and "Incoming: invoices are wrong" in seen
    assert "Closed in the last 7 days: 1" in seen


def test_someone_who_is_not_a_member_is_told_how_to_link_their_account(
    slack: FakeSlackApi, workspace: Workspace, deliver: Deliver
) -> None:
    deliver(home_opened("U0999EVE"))
    seen = all_text(published(slack, "U0999EVE")["blocks"])
    assert "not linked to a Rapport member" in seen


def test_opening_the_messages_tab_publishes_nothing(
    slack: FakeSlackApi, workspace: Workspace, deliver: Deliver
) -> None:
    response = deliver(home_opened(MEMBER_SLACK, tab="messages"))
    assert response.status_code == 200
    assert slack.asked("views.publish") == []


def test_long_lists_are_capped_within_slacks_block_limit_in_constant_queries(
    workspace: Workspace,
    customer_message: Callable[..., Message],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    for n in range(HOME_LIST_LIMIT + 3):
        request = request_create(
            message=customer_message(f"Mine {n}"), origin=RequestOrigin.DETECTED
        )
        request_assign(request=request, assignee=workspace.admin, actor=workspace.admin)
        request_create(message=customer_message(f"Incoming {n}"), origin=RequestOrigin.DETECTED)
    workspace.admin.refresh_from_db()
    # counts, my list, incoming list, settings; admins: on hold, by assignee.
    with django_assert_num_queries(6):
        data = app_home_data(workspace.admin)
    view = app_home_view(data)
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    seen = all_text(view["blocks"])
    assert f"My requests ({HOME_LIST_LIMIT + 3})" in seen
    assert f"Incoming requests ({HOME_LIST_LIMIT + 3})" in seen
    assert "3 more in Rapport." in seen

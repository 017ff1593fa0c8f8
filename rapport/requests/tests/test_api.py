"""The requests API: list with the board's filters, one request, actions, changes, settings."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.accounts.models import Account
from rapport.inbox.models import Channel
from rapport.requests.config import request_settings_get
from rapport.requests.models import Request, RequestActivity, RequestStatus
from rapport.requests.tests.conftest import MakeRequest
from rapport.users.models import User

pytestmark = pytest.mark.django_db

LIST = "/api/v1/requests"
SETTINGS = "/api/v1/request-settings"
# The token with its member, the count, the page with its joins.
LIST_QUERIES = 3


def _json(client: Client, method: str, url: str, body: Any = None) -> Any:
    return getattr(client, method)(url, body, content_type="application/json")


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_list_answers_items_and_count_newest_first(
    member_api: Client, make_request: MakeRequest, acme: Account, agent: User
) -> None:
    older = make_request("Older", account=acme, assignee=agent)
    newer = make_request("Newer", status=RequestStatus.WAITING)

    body = member_api.get(LIST).json()

    assert body["count"] == 2
    assert [item["id"] for item in body["items"]] == [newer.pk, older.pk]
    item = body["items"][1]
    assert item["title"] == "Older"
    assert item["status"] == "open"
    assert item["source"] == "api"
    assert item["account"] == {"id": acme.pk, "name": "Acme"}
    assert item["assignee"] == {"id": agent.pk, "email": agent.email, "name": "Alex Agent"}
    assert item["requester"]["name"] == "Jane Customer"
    assert item["url"] == f"/requests/{older.pk}/"


def test_list_takes_the_board_filters(
    member_api: Client,
    make_request: MakeRequest,
    acme: Account,
    globex: Account,
    channel: Channel,
    member_user: User,
) -> None:
    mine = make_request("Mine", assignee=member_user, account=acme)
    closed = make_request("Closed", status=RequestStatus.CLOSED, account=globex)
    slack = make_request("Slack", channel=channel)

    assert _ids(member_api.get(LIST, {"assignee": "me"})) == [mine.pk]
    assert _ids(member_api.get(LIST, {"status": "closed"})) == [closed.pk]
    assert _ids(member_api.get(LIST + "?status=open&status=closed&source=api")) == [
        closed.pk,
        mine.pk,
    ]
    assert _ids(member_api.get(LIST, {"account": str(globex.pk)})) == [closed.pk]
    assert _ids(member_api.get(LIST, {"channel": str(channel.pk)})) == [slack.pk]
    assert _ids(member_api.get(LIST, {"assignee": "unassigned", "status": "open"})) == [slack.pk]
    assert _ids(member_api.get(LIST, {"limit": 1, "offset": 1})) == [closed.pk]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "done"}, "status must be one of"),
        ({"assignee": "bob"}, "assignee must be a member id"),
        ({"account": "x"}, "account must be an id"),
        # "²".isdigit() is True but int("²") raises: these answered 500.
        ({"channel": "²"}, "channel must be an id"),
        ({"assignee": "²"}, "assignee must be a member id"),
    ],
)
def test_list_refuses_bad_filters(member_api: Client, params: dict[str, str], message: str) -> None:
    response = member_api.get(LIST, params)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_list_queries_do_not_grow_with_the_page(
    member_api: Client, make_request: MakeRequest, acme: Account, agent: User, channel: Channel
) -> None:
    for n in range(3):
        make_request(f"Question {n}", account=acme, assignee=agent)
    make_request("Slack", channel=channel, assignee=agent)
    member_api.get(LIST)  # the token's first use is stamped once
    for limit in (2, 50):
        with CaptureQueriesContext(connection) as queries:
            response = member_api.get(LIST, {"limit": limit})
        assert response.status_code == 200
        assert len(queries) == LIST_QUERIES, [q["sql"] for q in queries]


def test_get_one_request_or_404(member_api: Client, make_request: MakeRequest) -> None:
    request = make_request("Export fails")
    assert member_api.get(f"{LIST}/{request.pk}").json()["title"] == "Export fails"
    missing = member_api.get(f"{LIST}/999999")
    assert missing.status_code == 404
    assert missing.json() == {"error": "No request with id 999999."}


def test_the_api_needs_authentication(client: Client) -> None:
    assert client.get(LIST).status_code == 401
    assert client.get(SETTINGS).status_code == 401


def test_actions_change_the_request_and_answer_it(
    member_api: Client, make_request: MakeRequest, member_user: User, agent: User
) -> None:
    request = make_request("Export fails")
    url = f"{LIST}/{request.pk}/actions"

    taken = _json(member_api, "post", url, {"action": "take"}).json()
    assert taken["assignee"]["id"] == member_user.pk
    assigned = _json(member_api, "post", url, {"action": "assign", "assignee_id": agent.pk})
    assert assigned.json()["assignee"]["id"] == agent.pk
    for action, status in (("hold", "pending"), ("wait", "waiting"), ("close", "closed")):
        response = _json(member_api, "post", url, {"action": action})
        assert response.status_code == 200
        assert response.json()["status"] == status
    closed = response.json()
    assert closed["closed_at"] is not None
    assert closed["csat"]["requested_at"] is not None
    assert _json(member_api, "post", url, {"action": "reopen"}).json()["status"] == "open"
    unassigned = _json(member_api, "post", url, {"action": "assign", "assignee_id": None})
    assert unassigned.json()["assignee"] is None
    vias = {
        a.data.get("via") for a in RequestActivity.objects.filter(request=request, kind="status")
    }
    assert vias == {"api"}


def test_action_errors_answer_json_and_change_nothing(
    member_api: Client, make_request: MakeRequest, agent: User
) -> None:
    request = make_request("Export fails")
    url = f"{LIST}/{request.pk}/actions"

    unknown = _json(member_api, "post", url, {"action": "explode"})
    assert unknown.status_code == 400
    assert unknown.json()["error"].startswith("action must be one of")
    ticket = _json(member_api, "post", url, {"action": "ticket"})
    assert ticket.status_code == 400
    assert "No ticketing tool is configured" in ticket.json()["error"]
    nobody = _json(member_api, "post", url, {"action": "assign", "assignee_id": 987654})
    assert nobody.status_code == 400
    assert nobody.json() == {"error": "No active member with id 987654.", "field": "assignee_id"}
    missing = _json(member_api, "post", f"{LIST}/999999/actions", {"action": "close"})
    assert missing.status_code == 404
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN and request.assignee is None


def test_ticket_action_with_a_ticketing_address(
    member_api: Client, admin_api: Client, make_request: MakeRequest
) -> None:
    request = make_request("Export fails")
    _json(admin_api, "patch", SETTINGS, {"ticket_address": "help@tickets.example"})
    response = _json(member_api, "post", f"{LIST}/{request.pk}/actions", {"action": "ticket"})
    assert response.status_code == 200
    ticket = response.json()["ticket"]
    assert ticket["address"] == "help@tickets.example"
    assert ticket["reference"]


def test_patch_sets_status_and_assignee(
    member_api: Client, make_request: MakeRequest, agent: User
) -> None:
    request = make_request("Export fails")
    url = f"{LIST}/{request.pk}"
    body = _json(member_api, "patch", url, {"status": "waiting", "assignee_id": agent.pk}).json()
    assert body["status"] == "waiting"
    assert body["assignee"]["id"] == agent.pk
    # Leaving a field out keeps it; null unassigns.
    body = _json(member_api, "patch", url, {"status": "closed"}).json()
    assert body["assignee"]["id"] == agent.pk
    body = _json(member_api, "patch", url, {"assignee_id": None}).json()
    assert body["assignee"] is None and body["status"] == "closed"


def test_patch_with_a_bad_status_answers_400_and_changes_nothing(
    member_api: Client, make_request: MakeRequest, agent: User
) -> None:
    request = make_request("Export fails")
    response = _json(
        member_api, "patch", f"{LIST}/{request.pk}", {"status": "done", "assignee_id": agent.pk}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "'done' is not a request state.", "field": "status"}
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN
    assert request.assignee is None
    assert not RequestActivity.objects.filter(request=request, kind="assigned").exists()
    wrong_type = _json(member_api, "patch", f"{LIST}/{request.pk}", {"assignee_id": "someone"})
    assert wrong_type.status_code == 422
    assert "error" in wrong_type.json()


def test_settings_read_by_members_changed_by_admins(member_api: Client, admin_api: Client) -> None:
    body = member_api.get(SETTINGS).json()
    assert body["auto_close_days"] == 30
    assert body["grouping_window_seconds"] == 120
    assert body["ticket_address"] == ""

    denied = _json(member_api, "patch", SETTINGS, {"auto_close_days": 5})
    assert denied.status_code == 403
    assert "error" in denied.json()
    assert request_settings_get().auto_close_days == 30

    changed = _json(admin_api, "patch", SETTINGS, {"auto_close_days": 5, "csat_enabled": False})
    assert changed.status_code == 200
    assert changed.json()["auto_close_days"] == 5
    assert changed.json()["csat_enabled"] is False
    assert changed.json()["detection_enabled"] is True


def test_settings_refuse_bad_values(admin_api: Client) -> None:
    for body, field in (
        ({"auto_close_days": -1}, "auto_close_days"),
        ({"detection_mode": "wild"}, "detection_mode"),
        ({"ticket_address": "not an address"}, "ticket_address"),
        ({"csat_enabled": None}, "csat_enabled"),
    ):
        response = _json(admin_api, "patch", SETTINGS, body)
        assert response.status_code == 400, body
        assert response.json()["field"] == field
    assert request_settings_get().auto_close_days == 30


def test_the_board_and_the_api_agree(
    member_client: Client, member_api: Client, make_request: MakeRequest, member_user: User
) -> None:
    for n in range(3):
        make_request(f"Mine {n}", assignee=member_user, status=RequestStatus.WAITING)
    make_request("Other")
    api = member_api.get(LIST, {"assignee": "me", "status": "waiting"}).json()
    page = member_client.get("/requests/", {"assignee": "me"}).content.decode()
    assert api["count"] == 3
    for item in api["items"]:
        assert f'id="request-{item["id"]}"' in page
    assert not Request.objects.filter(title="Other", assignee=member_user).exists()


def test_channel_overrides_read_and_changed_by_admins(
    member_api: Client, admin_api: Client, channel: Channel
) -> None:
    url = f"{SETTINGS}/channels/{channel.pk}"
    body = member_api.get(url).json()
    assert body["channel"] == {"id": channel.pk, "name": "acme-support"}
    assert body["overrides"]["auto_close_days"] is None
    assert body["effective"]["auto_close_days"] == 30

    assert _json(member_api, "patch", url, {"auto_close_days": 3}).status_code == 403
    changed = _json(admin_api, "patch", url, {"auto_close_days": 3, "csat_enabled": False})
    assert changed.status_code == 200
    assert changed.json()["overrides"]["auto_close_days"] == 3
    assert changed.json()["effective"]["csat_enabled"] is False
    inherited = _json(admin_api, "patch", url, {"auto_close_days": None}).json()
    assert inherited["overrides"]["auto_close_days"] is None
    assert inherited["effective"]["auto_close_days"] == 30
    # The ticketing address is workspace-wide: a channel has none of its own.
    bad = _json(admin_api, "patch", url, {"ticket_address": "x@y.example"})
    assert bad.status_code == 422
    assert "ticket_address" in bad.json()["error"]
    assert member_api.get(f"{SETTINGS}/channels/999999").status_code == 404

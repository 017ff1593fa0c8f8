"""The request filter set: one declaration for the board, My queue's links and the API."""

import html
import re
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from rapport.accounts.models import Account
from rapport.core.errors import InvalidInput
from rapport.inbox.models import Channel
from rapport.requests.filters import RequestFilterSet
from rapport.requests.models import RequestStatus
from rapport.requests.tests.conftest import MakeRequest
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def _list_parameters(client: Client) -> dict[str, Any]:
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/requests"]["get"]
    return {p["name"]: p for p in operation["parameters"]}


def test_the_api_documents_exactly_the_declared_filters_and_the_page(client: Client) -> None:
    parameters = _list_parameters(client)
    declared = {p.name: p.description for p in RequestFilterSet.params}
    assert set(parameters) == set(declared) | {"limit", "offset"}
    for name, description in declared.items():
        assert parameters[name]["description"] == description
    assert parameters["status"]["schema"]["type"] == "array"
    assert parameters["limit"]["schema"]["maximum"] == 200


def test_the_board_and_the_api_read_one_shared_url_alike(
    member_client: Client,
    member_api: Client,
    make_request: MakeRequest,
    acme: Account,
    channel: Channel,
    member_user: User,
) -> None:
    make_request("Mine at Acme", account=acme, assignee=member_user)
    make_request("Nobody's in Slack", channel=channel)
    make_request("Nobody's closed", status=RequestStatus.CLOSED)
    make_request("Mine, waiting", account=acme, assignee=member_user, status=RequestStatus.WAITING)
    query = "assignee=me&assignee=unassigned&status=open&q=customer"

    api = member_api.get(f"/api/v1/requests?{query}").json()["items"]
    board = member_client.get(f"{reverse('requests:board')}?{query}").content.decode()
    open_column = re.search(r"board-column-open.*?</section>", board, re.S)

    assert open_column is not None
    titles = re.findall(r'class="board-card-title" href="[^"]+">([^<]+)</a>', open_column[0])
    assert sorted(item["title"] for item in api) == sorted(html.unescape(t) for t in titles)
    assert sorted(item["title"] for item in api) == ["Mine at Acme", "Nobody's in Slack"]


def test_assignee_fills_ids_unassigned_and_me_from_one_parameter() -> None:
    filters = RequestFilterSet.from_params(
        QueryDict("assignee=7&assignee=me&assignee=unassigned&assignee=8"), user_id=3
    )
    assert (filters.assignees, filters.unassigned, filters.me) == ([7, 8], True, True)
    assert filters.assignee_ids == [7, 8, 3]
    assert filters.as_query()["assignee"] == ["7", "8", "me", "unassigned"]


def test_me_needs_a_member_and_is_forgotten_when_not_asked() -> None:
    with pytest.raises(InvalidInput, match="assignee=me needs a logged-in member"):
        RequestFilterSet.from_params(QueryDict("assignee=me"))
    assert RequestFilterSet.from_params(QueryDict("status=open"), user_id=3).me_id is None
    assert RequestFilterSet.from_params(QueryDict(""), user_id=3) == RequestFilterSet()

"""The team and API token endpoints."""

import datetime
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from rapport.outbox.services import outbox_deliver_due
from rapport.users.models import ApiToken, Invitation, InvitationStatus, Role, User
from rapport.users.services import api_token_create
from rapport.users.services_invitations import invitation_create

pytestmark = pytest.mark.django_db


def _patch(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json")


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


# --- own tokens ----------------------------------------------------------------------------


def test_a_member_creates_lists_and_revokes_their_own_tokens(
    member_api: Client, member_user: User
) -> None:
    created = _post(member_api, "/api/v1/tokens", {"name": "CI"})
    assert created.status_code == 201
    body = created.json()
    raw = body["token"]
    assert raw.startswith(body["prefix"]) and body["name"] == "CI"
    assert body["expires_at"] is None
    new_api = Client(headers={"Authorization": f"Bearer {raw}"})
    listed = new_api.get("/api/v1/tokens").json()
    # The fixture's token and the new one; no secret in the list, the last use recorded.
    assert listed["count"] == 2
    assert all("token" not in item for item in listed["items"])
    mine = next(item for item in listed["items"] if item["id"] == body["id"])
    assert mine["last_used_at"] is not None
    assert member_api.delete(f"/api/v1/tokens/{body['id']}").status_code == 204
    assert new_api.get("/api/v1/tokens").status_code == 401
    assert member_api.get("/api/v1/tokens").json()["count"] == 1


def test_another_members_token_is_not_found(member_api: Client, admin_user: User) -> None:
    token, raw = api_token_create(user=admin_user, name="admin's")
    assert member_api.delete(f"/api/v1/tokens/{token.pk}").status_code == 404
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/tokens").status_code == (
        200
    )


def test_a_token_may_expire(member_api: Client) -> None:
    soon = (timezone.now() + datetime.timedelta(days=30)).isoformat()
    response = _post(member_api, "/api/v1/tokens", {"name": "temp", "expires_at": soon})
    assert response.status_code == 201
    assert ApiToken.objects.get(pk=response.json()["id"]).expires_at is not None


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"name": "x" * 101}, 422, "at most 100"),
        ({"name": 5}, 422, "Name must be text"),
        ({"name": "old", "expires_at": "2001-01-01T00:00:00Z"}, 400, "must be in the future"),
        ({"name": "naive", "expires_at": "2999-01-01T00:00:00"}, 400, "needs a time zone"),
    ],
)
def test_a_bad_token_request_is_refused_and_creates_nothing(
    member_api: Client, member_user: User, body: dict[str, Any], status: int, message: str
) -> None:
    before = ApiToken.objects.count()
    response = _post(member_api, "/api/v1/tokens", body)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert ApiToken.objects.count() == before


# --- members -------------------------------------------------------------------------------


def test_an_admin_lists_members_in_pages(
    admin_api: Client, admin_user: User, make_user: Callable[..., User]
) -> None:
    for n in range(3):
        make_user(f"m{n}@example.test", name=f"M{n}")
    page = admin_api.get("/api/v1/members?limit=2&offset=1").json()
    assert page["count"] == 4
    assert [m["email"] for m in page["items"]] == ["m0@example.test", "m1@example.test"]
    ada = admin_api.get(f"/api/v1/members/{admin_user.pk}").json()
    assert ada | {"date_joined": None, "last_login": None} == {
        "id": admin_user.pk,
        "email": "admin@example.test",
        "name": "Ada Admin",
        "role": "admin",
        "is_active": True,
        "slack_user_id": "",
        "is_csm": False,
        "date_joined": None,
        "last_login": None,
    }


def test_the_member_list_reads_in_a_constant_number_of_queries(
    admin_api: Client, make_user: Callable[..., User], django_assert_num_queries: Any
) -> None:
    admin_api.get("/api/v1/members")
    with django_assert_num_queries(3) as few:
        admin_api.get("/api/v1/members")
    for n in range(5):
        make_user(f"m{n}@example.test")
    with django_assert_num_queries(len(few.captured_queries)):
        assert admin_api.get("/api/v1/members").json()["count"] == 6


def test_an_admin_changes_a_member(admin_api: Client, member_user: User) -> None:
    url = f"/api/v1/members/{member_user.pk}"
    response = _patch(admin_api, url, {"role": "admin", "slack_user_id": "u0max0001"})
    assert response.status_code == 200
    assert (response.json()["role"], response.json()["slack_user_id"]) == ("admin", "U0MAX0001")
    response = _patch(admin_api, url, {"is_active": False, "slack_user_id": None})
    assert response.json()["is_active"] is False and response.json()["slack_user_id"] == ""
    member_user.refresh_from_db()
    assert (member_user.role, member_user.is_active) == (Role.ADMIN, False)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"role": "owner"}, 422, "Role must be one of"),
        ({"role": None}, 400, "Role must be one of"),
        ({"is_active": "maybe"}, 422, "Active is on or off"),
        ({"slack_user_id": "#general"}, 422, "A Slack user id starts with U or W"),
    ],
)
def test_a_bad_member_change_is_refused(
    admin_api: Client, member_user: User, body: dict[str, Any], status: int, message: str
) -> None:
    response = _patch(admin_api, f"/api/v1/members/{member_user.pk}", body)
    assert response.status_code == status
    assert message in response.json()["error"]
    member_user.refresh_from_db()
    assert (member_user.role, member_user.is_active, member_user.slack_user_id) == (
        Role.MEMBER,
        True,
        "",
    )


def test_the_last_admin_cannot_step_down_through_the_api(
    admin_api: Client, admin_user: User
) -> None:
    response = _patch(admin_api, f"/api/v1/members/{admin_user.pk}", {"role": "member"})
    assert response.status_code == 409
    assert response.json() == {
        "error": "You are the last active admin: make another member an admin first.",
        "field": "role",
    }


def test_members_cannot_use_the_team_endpoints(
    member_api: Client, admin_user: User, member_user: User
) -> None:
    invitation, _ = invitation_create(actor=admin_user, email="jane@example.test")
    calls = [
        member_api.get("/api/v1/members"),
        member_api.get(f"/api/v1/members/{admin_user.pk}"),
        _patch(member_api, f"/api/v1/members/{member_user.pk}", {"role": "admin"}),
        _patch(member_api, "/api/v1/members/999999", {"role": "admin"}),
        member_api.get("/api/v1/invitations"),
        _post(member_api, "/api/v1/invitations", {"email": "x@example.test"}),
        member_api.post(f"/api/v1/invitations/{invitation.pk}/resend"),
        member_api.delete(f"/api/v1/invitations/{invitation.pk}"),
    ]
    assert [c.status_code for c in calls] == [403] * len(calls)
    member_user.refresh_from_db()
    assert member_user.role == Role.MEMBER
    assert Invitation.objects.get().status == InvitationStatus.PENDING


# --- invitations ---------------------------------------------------------------------------


def test_an_admin_invites_resends_and_revokes_through_the_api(admin_api: Client) -> None:
    created = _post(
        admin_api, "/api/v1/invitations", {"email": "jane@example.test", "role": "admin"}
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["email"], body["role"], body["status"]) == (
        "jane@example.test",
        "admin",
        "pending",
    )
    assert body["invited_by"]["email"] == "admin@example.test"
    assert "token" not in body and "digest" not in body
    outbox_deliver_due()
    assert mail.outbox[-1].to == ["jane@example.test"]
    listed = admin_api.get("/api/v1/invitations").json()
    assert [i["id"] for i in listed["items"]] == [body["id"]]

    again = admin_api.post(f"/api/v1/invitations/{body['id']}/resend")
    assert again.status_code == 200
    outbox_deliver_due()
    links = [re.search(r"/invitations/([\w-]+)/", str(m.body)) for m in mail.outbox]
    assert len({link.group(1) for link in links if link}) == 2

    assert admin_api.delete(f"/api/v1/invitations/{body['id']}").status_code == 204
    assert admin_api.get("/api/v1/invitations").json()["count"] == 0
    assert admin_api.delete(f"/api/v1/invitations/{body['id']}").status_code == 409


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "member@example.test"}, 409),
        ({"email": "not an email"}, 422),
        ({"email": "jane@example.test", "role": "owner"}, 422),
        ({}, 422),
    ],
)
def test_a_bad_invitation_is_refused(
    admin_api: Client, member_user: User, body: dict[str, Any], status: int
) -> None:
    response = _post(admin_api, "/api/v1/invitations", body)
    assert response.status_code == status
    assert response.json()["error"]
    assert not Invitation.objects.exists()


def test_an_admin_marks_a_member_as_csm(admin_api: Client, member_user: User) -> None:
    response = admin_api.patch(
        f"/api/v1/members/{member_user.pk}", {"is_csm": True}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["is_csm"] is True
    member_user.refresh_from_db()
    assert member_user.is_csm

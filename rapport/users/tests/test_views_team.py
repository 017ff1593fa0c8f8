"""The Team settings page: admins see and change members and invitations."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from rapport.core.settings_menu import settings_pages_for
from rapport.outbox.services import outbox_deliver_due
from rapport.users.models import Invitation, InvitationStatus, Role, User
from rapport.users.services import api_token_create
from rapport.users.services_invitations import invitation_create

pytestmark = pytest.mark.django_db

TEAM = "/settings/team/"


def _text(response: Any) -> str:
    return response.content.decode()


def test_the_team_page_is_in_the_settings_menu_for_admins_only() -> None:
    assert "team" in {page.key for page in settings_pages_for(is_admin=True)}
    assert "team" not in {page.key for page in settings_pages_for(is_admin=False)}
    assert reverse("users:team") == TEAM


def test_an_admin_sees_members_with_role_status_and_slack_id(
    admin_client: Client, admin_user: User, make_user: Callable[..., User]
) -> None:
    kim = make_user("kim@example.test", name="Kim")
    User.objects.filter(pk=kim.pk).update(slack_user_id="U0KIM0001", is_active=False)
    invitation_create(actor=admin_user, email="jane@example.test", role=Role.ADMIN)
    response = admin_client.get(TEAM)
    assert response.status_code == 200
    html = _text(response)
    assert "<h1>Team</h1>" in html
    kim_row = re.search(rf'<tr id="member-{kim.pk}".*?</tr>', html, re.S)
    assert kim_row
    assert "Deactivated" in kim_row.group(0) and "U0KIM0001" in kim_row.group(0)
    admin_row = re.search(rf'<tr id="member-{admin_user.pk}".*?</tr>', html, re.S)
    assert admin_row
    assert "(you)" in admin_row.group(0) and "Active" in admin_row.group(0)
    invited = re.search(
        r'<tr id="invitation-\d+" data-email="jane@example.test".*?</tr>', html, re.S
    )
    assert invited
    assert "Invited" in invited.group(0) and "until" in invited.group(0)
    assert "Admin" in invited.group(0)


def test_the_page_needs_a_login_and_members_are_refused(
    client: Client, member_client: Client, admin_user: User, member_user: User
) -> None:
    response = client.get(TEAM)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert member_client.get(TEAM).status_code == 403
    invitation, _ = invitation_create(actor=admin_user, email="jane@example.test")
    for url, data in [
        (TEAM, {"email": "x@example.test", "role": "member"}),
        (reverse("users:member_role", args=[member_user.pk]), {f"m{member_user.pk}-role": "admin"}),
        (reverse("users:member_active", args=[admin_user.pk]), {"is_active": "off"}),
        (
            reverse("users:member_slack", args=[admin_user.pk]),
            {f"m{admin_user.pk}-slack_user_id": "U0MAX0001"},
        ),
        (reverse("users:invitation_resend", args=[invitation.pk]), {}),
        (reverse("users:invitation_revoke", args=[invitation.pk]), {}),
    ]:
        assert member_client.post(url, data).status_code == 403, url
    member_user.refresh_from_db()
    admin_user.refresh_from_db()
    assert member_user.role == Role.MEMBER and admin_user.is_active
    assert admin_user.slack_user_id == ""
    assert Invitation.objects.get().status == InvitationStatus.PENDING
    assert Invitation.objects.count() == 1


def test_the_page_reads_in_a_constant_number_of_queries(
    admin_client: Client,
    admin_user: User,
    make_user: Callable[..., User],
    django_assert_num_queries: Any,
) -> None:
    def load() -> None:
        assert admin_client.get(TEAM).status_code == 200

    load()  # warm: the session and the user
    with django_assert_num_queries(5) as few:
        load()
    for n in range(5):
        make_user(f"m{n}@example.test", name=f"M{n}")
        invitation_create(actor=admin_user, email=f"i{n}@example.test")
    with django_assert_num_queries(len(few.captured_queries)):
        load()


def test_an_admin_invites_by_email_and_the_invitee_gets_the_link(
    admin_client: Client, settings: Any
) -> None:
    settings.SITE_URL = "https://cs.example.com"
    response = admin_client.post(
        TEAM, {"email": "Jane@Example.test", "name": "Jane", "role": "member"}, follow=True
    )
    assert response.status_code == 200
    assert "Invited jane@example.test" in _text(response)
    assert 'data-email="jane@example.test"' in _text(response)
    outbox_deliver_due()
    [email] = mail.outbox
    assert email.to == ["jane@example.test"]
    assert re.search(r"https://cs\.example\.com/invitations/[\w-]{40,}/", str(email.body))


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"email": "not-an-email", "role": "member"}, 400, "Email is not an email address."),
        (
            {"email": "jane@example.test", "role": "owner"},
            400,
            "Role must be one of: admin, member.",
        ),
        ({"email": "member@example.test", "role": "member"}, 409, "already a member"),
    ],
)
def test_a_bad_invitation_is_refused_next_to_the_field(
    admin_client: Client, member_user: User, data: dict[str, str], status: int, message: str
) -> None:
    response = admin_client.post(TEAM, data)
    assert response.status_code == status
    assert message in _text(response)
    assert not Invitation.objects.exists()
    assert not mail.outbox


def test_an_admin_changes_a_role_and_sees_it_in_the_history(
    admin_client: Client, member_user: User
) -> None:
    url = reverse("users:member_role", args=[member_user.pk])
    response = admin_client.post(url, {f"m{member_user.pk}-role": "admin"}, follow=True)
    assert response.status_code == 200
    html = _text(response)
    assert "Max Member is now an admin." in html
    history = html[html.index('id="team-history"') :]
    assert "Ada Admin</strong> changed <strong>Max Member" in history
    assert "Role" in history and "member" in history and "admin" in history
    member_user.refresh_from_db()
    assert member_user.role == Role.ADMIN


def test_the_last_admin_cannot_demote_or_deactivate_themselves(
    admin_client: Client, admin_user: User
) -> None:
    response = admin_client.post(
        reverse("users:member_role", args=[admin_user.pk]), {f"m{admin_user.pk}-role": "member"}
    )
    assert response.status_code == 409
    assert "You are the last active admin: make another member an admin first." in _text(response)
    response = admin_client.post(
        reverse("users:member_active", args=[admin_user.pk]), {"is_active": "off"}
    )
    assert response.status_code == 409
    assert "last active admin" in _text(response)
    admin_user.refresh_from_db()
    assert admin_user.is_admin


def test_a_deactivated_member_is_logged_out_cannot_log_in_and_their_token_stops(
    admin_client: Client, member_client: Client, member_user: User
) -> None:
    _, raw = api_token_create(user=member_user)
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/v1/accounts").status_code == 200
    assert member_client.get("/accounts/").status_code == 200
    response = admin_client.post(
        reverse("users:member_active", args=[member_user.pk]), {"is_active": "off"}, follow=True
    )
    assert "Deactivated Max Member" in _text(response)
    assert api.get("/api/v1/accounts").status_code == 401
    assert member_client.get("/accounts/").status_code == 302  # the session ended
    login = Client().post("/login/", {"username": member_user.email, "password": PASSWORD})
    assert login.status_code == 200 and "_auth_user_id" not in login.wsgi_request.session
    # Reactivated, they are back with the same token.
    admin_client.post(reverse("users:member_active", args=[member_user.pk]), {"is_active": "on"})
    assert api.get("/api/v1/accounts").status_code == 200


def test_activation_needs_an_explicit_on_or_off(admin_client: Client, member_user: User) -> None:
    response = admin_client.post(reverse("users:member_active", args=[member_user.pk]), {})
    assert response.status_code == 400
    member_user.refresh_from_db()
    assert member_user.is_active


def test_an_admin_sets_a_slack_user_id_and_a_bad_one_is_refused(
    admin_client: Client, member_user: User
) -> None:
    url = reverse("users:member_slack", args=[member_user.pk])
    field = f"m{member_user.pk}-slack_user_id"
    response = admin_client.post(url, {field: "C0CHANNEL1"})
    assert response.status_code == 400
    html = _text(response)
    assert "A Slack user id starts with U or W" in html
    # The member's editor stays open with what was typed.
    row = re.search(rf'<tr id="member-{member_user.pk}".*?</tr>', html, re.S)
    assert row and '<details class="editor-inline" open>' in row.group(0)
    assert 'value="C0CHANNEL1"' in row.group(0)
    member_user.refresh_from_db()
    assert member_user.slack_user_id == ""

    response = admin_client.post(url, {field: "u012ab3cd"}, follow=True)
    assert "Linked Max Member to the Slack user U012AB3CD." in _text(response)
    member_user.refresh_from_db()
    assert member_user.slack_user_id == "U012AB3CD"


def test_an_unknown_member_or_invitation_is_a_404(admin_client: Client) -> None:
    assert (
        admin_client.post(
            reverse("users:member_active", args=[999]), {"is_active": "off"}
        ).status_code
        == 404
    )
    assert admin_client.post(reverse("users:invitation_revoke", args=[999])).status_code == 404


def test_an_admin_resends_and_revokes_an_invitation(admin_client: Client, admin_user: User) -> None:
    invitation, old = invitation_create(actor=admin_user, email="jane@example.test")
    response = admin_client.post(
        reverse("users:invitation_resend", args=[invitation.pk]), follow=True
    )
    assert "Sent jane@example.test a new link" in _text(response)
    assert Client().get(f"/invitations/{old}/").status_code == 404
    response = admin_client.post(
        reverse("users:invitation_revoke", args=[invitation.pk]), follow=True
    )
    assert "Revoked the invitation of jane@example.test." in _text(response)
    assert 'data-email="jane@example.test"' not in _text(response)
    outbox_deliver_due()
    new = re.search(r"/invitations/([\w-]+)/", str(mail.outbox[-1].body))
    assert new and Client().get(f"/invitations/{new.group(1)}/").status_code == 410
    # A revoked invitation cannot be revoked or sent again: a clear 409.
    response = admin_client.post(reverse("users:invitation_resend", args=[invitation.pk]))
    assert response.status_code == 409
    assert "was revoked" in _text(response)


def test_an_admin_who_steps_down_lands_on_the_settings_page(
    admin_client: Client, admin_user: User, make_user: Callable[..., User]
) -> None:
    make_user("boss@example.test", role=Role.ADMIN)
    response = admin_client.post(
        reverse("users:member_role", args=[admin_user.pk]), {f"m{admin_user.pk}-role": "member"}
    )
    assert response.status_code == 302 and response["Location"] == "/settings/"
    page = admin_client.get("/settings/").content.decode()
    assert "Ada Admin is now a member." in page
    assert admin_client.get(TEAM).status_code == 403

"""The page an invitation link opens."""

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.users.models import Invitation, Role, User
from rapport.users.services_invitations import invitation_create, invitation_revoke

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-and-unusual-passphrase"  # noqa: S105 (test value)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _join(client: Client, raw: str, **data: str) -> Any:
    form = {"name": "Jane Doe", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD} | data
    return client.post(f"/invitations/{raw}/", form)


def test_the_invitee_sets_a_name_and_password_and_is_logged_in(admin_user: User) -> None:
    _, raw = invitation_create(
        actor=admin_user, email="jane@example.test", name="Jane", role=Role.ADMIN
    )
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/invitations/{raw}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ada Admin invited" in html and "jane@example.test" in html and "an admin" in html
    assert 'value="Jane"' in html  # the name the admin typed, to keep or change
    assert page["Cache-Control"].startswith("max-age=0")
    response = client.post(
        f"/invitations/{raw}/",
        {
            "name": "Jane Doe",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "csrfmiddlewaretoken": _csrf(html),
        },
    )
    assert response.status_code == 302 and response["Location"] == "/"
    jane = User.objects.get(email="jane@example.test")
    assert client.session["_auth_user_id"] == str(jane.pk)
    assert (jane.name, jane.role) == ("Jane Doe", Role.ADMIN)
    assert "Welcome to Rapport, Jane Doe." in client.get("/", follow=True).content.decode()
    # The new member logs in again with that password.
    login = Client().post("/login/", {"username": "jane@example.test", "password": NEW_PASSWORD})
    assert login.status_code == 302


def test_the_link_works_once(admin_user: User, client: Client) -> None:
    _, raw = invitation_create(actor=admin_user, email="jane@example.test")
    assert _join(client, raw).status_code == 302
    again = _join(Client(), raw, name="Mallory")
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert Client().get(f"/invitations/{raw}/").status_code == 410
    assert User.objects.filter(email="jane@example.test").get().name == "Jane Doe"


def test_an_expired_link_answers_410_and_says_so(admin_user: User, client: Client) -> None:
    invitation, raw = invitation_create(actor=admin_user, email="jane@example.test")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    for response in (client.get(f"/invitations/{raw}/"), _join(client, raw)):
        assert response.status_code == 410
        html = response.content.decode()
        assert "This invitation link does not work" in html and "expired on" in html
    assert not User.objects.filter(email="jane@example.test").exists()


def test_a_revoked_link_answers_410(admin_user: User, client: Client) -> None:
    invitation, raw = invitation_create(actor=admin_user, email="jane@example.test")
    invitation_revoke(actor=admin_user, invitation=invitation)
    response = _join(client, raw)
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    assert not User.objects.filter(email="jane@example.test").exists()


@pytest.mark.parametrize("raw", ["nope", "A" * 43, "x" * 300])
def test_an_unknown_link_answers_404(admin_user: User, client: Client, raw: str) -> None:
    invitation_create(actor=admin_user, email="jane@example.test")
    response = client.get(f"/invitations/{raw}/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    assert _join(client, raw).status_code == 404
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password1": "short", "password2": "short"}, "too short"),
        ({"password1": "password123", "password2": "password123"}, "too common"),
        ({"password2": NEW_PASSWORD + "!"}, "The two passwords differ."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_a_bad_form_is_refused_and_the_link_still_works(
    admin_user: User, client: Client, data: dict[str, str], message: str
) -> None:
    _, raw = invitation_create(actor=admin_user, email="jane@example.test")
    response = _join(client, raw, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.filter(email="jane@example.test").exists()
    assert "_auth_user_id" not in client.session
    assert _join(client, raw).status_code == 302

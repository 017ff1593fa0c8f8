"""Logging in and out of the web UI."""

import re

import pytest
from django.test import Client

from conftest import PASSWORD
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the form carries no CSRF token"
    return match.group(1)


def _logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_the_login_page_has_an_email_and_password_form_with_csrf(client: Client) -> None:
    response = client.get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="post"' in html
    assert _csrf_token(html)
    assert 'type="email"' in html
    assert 'type="password"' in html


def test_logging_in_with_email_and_password_opens_a_session(member_user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    token = _csrf_token(client.get("/login/").content.decode())
    response = client.post(
        "/login/",
        {"username": "member@example.test", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _logged_in_user_id(client) == str(member_user.pk)


def test_the_email_is_matched_regardless_of_case_and_spaces(
    member_user: User, client: Client
) -> None:
    response = client.post("/login/", {"username": " Member@Example.TEST ", "password": PASSWORD})
    assert response.status_code == 302
    assert _logged_in_user_id(client) == str(member_user.pk)


def test_login_without_the_csrf_token_is_refused(member_user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "member@example.test", "password": PASSWORD})
    assert response.status_code == 403
    assert _logged_in_user_id(client) is None


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("member@example.test", "wrong password"),
        ("nobody@example.test", PASSWORD),
        ("member@example.test", ""),
    ],
)
def test_a_wrong_email_or_password_shows_an_error(
    member_user: User, client: Client, email: str, password: str
) -> None:
    response = client.post("/login/", {"username": email, "password": password})
    assert response.status_code == 200
    assert _logged_in_user_id(client) is None
    html = response.content.decode()
    assert "do not match" in html or "This field is required" in html


def test_a_disabled_member_cannot_log_in(member_user: User, client: Client) -> None:
    member_user.is_active = False
    member_user.save()
    response = client.post("/login/", {"username": "member@example.test", "password": PASSWORD})
    assert response.status_code == 200
    assert _logged_in_user_id(client) is None


def test_login_follows_a_safe_next_and_ignores_an_outside_one(member_user: User) -> None:
    client = Client()
    response = client.post(
        "/login/?next=/accounts/",
        {"username": "member@example.test", "password": PASSWORD, "next": "/accounts/"},
    )
    assert response["Location"] == "/accounts/"
    client = Client()
    response = client.post(
        "/login/",
        {"username": "member@example.test", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_a_logged_in_member_is_sent_on_from_the_login_page(member_client: Client) -> None:
    response = member_client.get("/login/")
    assert response.status_code == 302


def test_posting_to_logout_ends_the_session(member_client: Client) -> None:
    response = member_client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert _logged_in_user_id(member_client) is None


def test_logout_by_get_is_not_allowed(member_client: Client) -> None:
    assert member_client.get("/logout/").status_code == 405
    assert _logged_in_user_id(member_client) is not None


def test_pages_need_a_login(client: Client) -> None:
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")

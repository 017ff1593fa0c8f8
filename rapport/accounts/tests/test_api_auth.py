"""The API's authentication, through the accounts endpoints: tokens, sessions and CSRF."""

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.utils import timezone

from rapport.accounts.models import Account, Contact
from rapport.accounts.tests.kit import error_of, send
from rapport.users.models import ApiToken, User
from rapport.users.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/accounts"


def _endpoints(account_id: int) -> list[tuple[str, str, Any]]:
    one = f"{ACCOUNTS}/{account_id}"
    return [
        ("get", ACCOUNTS, None),
        ("post", ACCOUNTS, {"name": "New"}),
        ("get", one, None),
        ("patch", one, {"status": "churned"}),
        ("delete", one, None),
        ("post", f"{one}/logo", None),
        ("delete", f"{one}/logo", None),
        ("get", f"{one}/contacts", None),
        ("post", f"{one}/contacts", {"email": "jane@acme.com"}),
        ("get", f"{one}/audit", None),
        ("get", "/api/v1/fields", None),
        ("post", "/api/v1/fields", {"key": "seats", "label": "Seats"}),
    ]


ENDPOINT_IDS = [
    "list",
    "create",
    "get",
    "patch",
    "delete",
    "logo-upload",
    "logo-delete",
    "contacts",
    "contact-add",
    "audit",
    "fields",
    "field-create",
]


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(12), ids=ENDPOINT_IDS)
def test_anonymous_requests_get_401_and_change_nothing(account: Account, index: int) -> None:
    method, path, body = _endpoints(account.pk)[index]
    client = Client(enforce_csrf_checks=True)
    message = error_of(send(client, method, path, body), 401)
    assert "Bearer" in message
    account.refresh_from_db()
    assert account.status == "none"
    assert Account.objects.count() == 1
    assert not Contact.objects.exists()


def _revoked(user: User) -> str:
    token, raw = api_token_create(user=user)
    api_token_revoke(token=token)
    return raw


def _expired(user: User) -> str:
    return api_token_create(user=user, expires_at=timezone.now() - datetime.timedelta(seconds=1))[1]


def _of_inactive_user(user: User) -> str:
    raw = api_token_create(user=user)[1]
    User.objects.filter(pk=user.pk).update(is_active=False)
    return raw


@pytest.mark.parametrize(
    "make_token",
    [
        _revoked,
        _expired,
        _of_inactive_user,
        lambda user: "garbage",
        lambda user: "rpt_" + "x" * 43,
        lambda user: api_token_create(user=user)[1][:-1],
        lambda user: "",
    ],
    ids=["revoked", "expired", "inactive-user", "garbage", "unknown", "truncated", "empty"],
)
@pytest.mark.parametrize("index", [0, 1, 3, 4], ids=["list", "create", "patch", "delete"])
def test_a_bad_bearer_token_gets_401(
    account: Account, admin_user: User, make_token: Callable[[User], str], index: int
) -> None:
    method, path, body = _endpoints(account.pk)[index]
    client = Client(
        enforce_csrf_checks=True, headers={"Authorization": f"Bearer {make_token(admin_user)}"}
    )
    error_of(send(client, method, path, body), 401)
    assert Account.objects.count() == 1


def test_a_valid_bearer_token_needs_no_csrf_token(admin_token: str) -> None:
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {admin_token}"})
    response = send(client, "post", ACCOUNTS, {"name": "Acme", "primary_domain": "acme.com"})
    assert response.status_code == 201, response.content


def test_a_token_with_an_expiry_in_the_future_works(admin_user: User) -> None:
    raw = api_token_create(user=admin_user, expires_at=timezone.now() + datetime.timedelta(days=1))[
        1
    ]
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get(ACCOUNTS).status_code == 200


def test_using_a_token_records_when_it_was_last_used(admin_user: User, admin_token: str) -> None:
    Client(headers={"Authorization": f"Bearer {admin_token}"}).get(ACCOUNTS)
    assert ApiToken.objects.get(user=admin_user).last_used_at is not None


def test_a_browser_session_reads_without_csrf(admin_client: Client, account: Account) -> None:
    response = admin_client.get(f"{ACCOUNTS}/{account.pk}")
    assert response.status_code == 200
    assert response.json()["name"] == "Acme"


def test_a_browser_session_needs_the_csrf_token_to_write(admin_user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    body = {"name": "Acme", "primary_domain": "acme.com"}
    assert "CSRF" in error_of(send(client, "post", ACCOUNTS, body), 403)
    assert not Account.objects.exists()

    # What a page with a form does: set the CSRF cookie and hand the token to the script.
    page_request = RequestFactory().get("/")
    token = get_token(page_request)
    client.cookies[settings.CSRF_COOKIE_NAME] = page_request.META["CSRF_COOKIE"]
    response = send(client, "post", ACCOUNTS, body, headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.content

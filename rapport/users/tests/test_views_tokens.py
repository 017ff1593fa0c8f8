"""The API tokens page: each member manages their own tokens."""

import datetime
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.core.settings_menu import settings_pages_for
from rapport.users.models import ApiToken, User
from rapport.users.services import api_token_create

pytestmark = pytest.mark.django_db

TOKENS = "/settings/tokens/"


def test_every_member_finds_the_tokens_page_in_the_settings_menu() -> None:
    assert "tokens" in {page.key for page in settings_pages_for(is_admin=False)}
    assert reverse("users:tokens") == TOKENS


def test_a_member_creates_a_token_sees_it_once_and_it_works(
    member_client: Client, member_user: User
) -> None:
    response = member_client.post(TOKENS, {"name": "CI"})
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'id="token-secret"[^>]*value="(rpt_[^"]+)"', html)
    assert match, "the new token is shown"
    raw = match.group(1)
    assert "it is not shown again" in html
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/v1/accounts").status_code == 200
    # Listed by name and prefix, with its last use; the secret is not on the page again.
    page = member_client.get(TOKENS).content.decode()
    assert raw not in page
    row = re.search(r'<tr id="token-\d+">.*?</tr>', page, re.S)
    assert row and "CI" in row.group(0) and raw[:10] in row.group(0)
    assert "Never" not in row.group(0)  # the API call above counts as a use
    assert ApiToken.objects.get().user == member_user


def test_a_token_never_used_says_so(member_client: Client, member_user: User) -> None:
    api_token_create(user=member_user, name="spare")
    row = re.search(
        r'<tr id="token-\d+">.*?</tr>', member_client.get(TOKENS).content.decode(), re.S
    )
    assert row and "Never" in row.group(0)


def test_a_member_sees_only_their_own_tokens(
    member_client: Client, member_user: User, admin_user: User
) -> None:
    api_token_create(user=admin_user, name="admin laptop")
    api_token_create(user=member_user, name="my laptop")
    page = member_client.get(TOKENS).content.decode()
    assert "my laptop" in page and "admin laptop" not in page


def test_a_member_revokes_a_token_and_it_stops_working(
    member_client: Client, member_user: User
) -> None:
    token, raw = api_token_create(user=member_user, name="old")
    response = member_client.post(reverse("users:token_revoke", args=[token.pk]), follow=True)
    assert "Revoked the token old." in response.content.decode()
    assert f'id="token-{token.pk}"' not in response.content.decode()
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/v1/accounts").status_code == 401


def test_another_members_token_cannot_be_revoked(member_client: Client, admin_user: User) -> None:
    token, raw = api_token_create(user=admin_user, name="admin's")
    response = member_client.post(reverse("users:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_too_long_name_is_refused(member_client: Client) -> None:
    response = member_client.post(TOKENS, {"name": "x" * 101})
    assert response.status_code == 400
    assert "Name is at most 100 characters." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_page_needs_a_login(client: Client) -> None:
    assert client.get(TOKENS).status_code == 302
    assert client.post(TOKENS, {"name": "x"}).status_code == 302
    assert not ApiToken.objects.exists()


def test_the_page_reads_in_a_constant_number_of_queries(
    member_client: Client, member_user: User, django_assert_num_queries: Any
) -> None:
    member_client.get(TOKENS)
    with django_assert_num_queries(3) as few:
        member_client.get(TOKENS)
    for n in range(5):
        api_token_create(
            user=member_user, name=f"t{n}", expires_at=timezone.now() + datetime.timedelta(days=1)
        )
    with django_assert_num_queries(len(few.captured_queries)):
        member_client.get(TOKENS)

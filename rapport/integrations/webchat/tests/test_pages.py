"""The web chat sites page in the Settings menu: add, edit, rotate, snippet, identity."""

import hashlib
import hmac
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.audit.models import AuditEntry
from rapport.integrations.webchat.models import ChatSite
from rapport.integrations.webchat.tests.factories import ORIGIN, Widget, make_site
from rapport.users.models import User

pytestmark = pytest.mark.django_db

SITES = "/webchat/sites/"


def text(response: Any) -> str:
    return response.content.decode()


def test_the_page_is_in_the_settings_menu_for_admins_only(
    admin_client: Client, member_client: Client
) -> None:
    assert reverse("webchat:sites") == SITES
    admin_menu = text(admin_client.get("/settings/"))
    member_menu = text(member_client.get("/settings/"))
    assert "Web chat sites" in admin_menu and SITES in admin_menu
    assert "Web chat sites" not in member_menu


def test_an_admin_adds_a_site_and_sees_its_snippet_and_secret_once(
    admin_client: Client, admin_user: User, settings: Any
) -> None:
    settings.SITE_URL = "https://rapport.example.com/"
    response = admin_client.post(
        SITES,
        {
            "name": "Acme Shop",
            "allowed_origins": "https://WWW.acme-shop.example/\n\nhttp://localhost:3000",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    site = ChatSite.objects.get()
    assert response["Location"] == f"/webchat/sites/{site.pk}/"
    assert site.allowed_origins == ["https://www.acme-shop.example", "http://localhost:3000"]
    assert (site.is_active, site.require_verified) == (True, False)
    assert site.identity_secret.startswith("wcs_")
    entry = AuditEntry.objects.get(action="webchat.site_create")
    assert entry.actor == admin_user
    assert site.identity_secret not in str(entry.changes)

    first = admin_client.get(response["Location"])
    page = text(first)
    assert first.status_code == 200
    assert "no-store" in first["Cache-Control"]
    widget = f"https://rapport.example.com/webchat/{site.public_key}/widget.js"
    assert f"&lt;script src=&quot;{widget}&quot; async&gt;&lt;/script&gt;" in page
    assert f"{widget}&quot; data-email=&quot;EMAIL&quot;" in page
    assert "data-user-hash=&quot;USER_HASH&quot;" in page
    assert site.identity_secret in page
    assert "Copy the identity secret now" in page
    # Shown once: the next visit names only its last characters.
    again = text(admin_client.get(response["Location"]))
    assert site.identity_secret not in again
    assert f"wcs_…{site.identity_secret[-4:]}" in again

    listing = text(admin_client.get(SITES))
    assert "Acme Shop" in listing and site.public_key in listing
    assert "https://www.acme-shop.example" in listing
    assert site.identity_secret not in listing


def test_a_bad_origin_is_explained_and_no_site_is_added(admin_client: Client) -> None:
    response = admin_client.post(
        SITES, {"name": "Acme Shop", "allowed_origins": "https://shop.example/app"}
    )

    assert response.status_code == 400
    assert "is not an origin" in text(response)
    assert not ChatSite.objects.exists()
    assert admin_client.post(SITES, {"name": "  ", "allowed_origins": ""}).status_code == 400
    assert not ChatSite.objects.exists()


def test_an_admin_edits_origins_and_turns_on_require_verified(
    admin_client: Client, admin_user: User, site: ChatSite
) -> None:
    url = reverse("webchat:site", args=[site.pk])
    form = text(admin_client.get(url))
    assert "https://www.acme-shop.example</textarea>" in form

    response = admin_client.post(
        url,
        {
            "name": "Acme Store",
            "allowed_origins": "https://www.acme-shop.example\nhttps://acme-shop.example",
            "is_active": "on",
            "require_verified": "on",
        },
    )

    assert response.status_code == 302
    site.refresh_from_db()
    assert site.name == "Acme Store"
    assert site.allowed_origins == ["https://www.acme-shop.example", "https://acme-shop.example"]
    assert site.require_verified is True
    entry = AuditEntry.objects.get(action="webchat.site_update")
    assert entry.actor == admin_user
    assert entry.changes["require_verified"] == {"before": False, "after": True}
    # The chat now refuses a visitor the site did not sign.
    assert Widget(site).start().status_code == 403

    bad = admin_client.post(url, {"name": "Acme Store", "allowed_origins": "*.acme.example"})
    assert bad.status_code == 400
    assert "is not an origin" in text(bad)
    site.refresh_from_db()
    assert site.is_active is True


def test_rotating_the_secret_shows_the_new_one_once_and_voids_the_old(
    admin_client: Client, admin_user: User, site: ChatSite
) -> None:
    old = site.identity_secret
    old_hash = hmac.new(old.encode(), b"jo@acme.example", hashlib.sha256).hexdigest()
    assert Widget(site).start(user_hash=old_hash).status_code == 201

    response = admin_client.post(reverse("webchat:site_secret_rotate", args=[site.pk]))

    assert response.status_code == 302
    site.refresh_from_db()
    assert site.identity_secret != old
    page = text(admin_client.get(response["Location"]))
    assert site.identity_secret in page
    assert old not in page
    assert site.identity_secret not in text(admin_client.get(response["Location"]))
    entry = AuditEntry.objects.get(action="webchat.site_rotate_secret")
    assert entry.actor == admin_user
    assert old not in str(entry.changes) and site.identity_secret not in str(entry.changes)
    assert Widget(site).start(user_hash=old_hash).status_code == 403


def test_members_cannot_open_or_change_chat_sites(member_client: Client, site: ChatSite) -> None:
    secret = site.identity_secret
    detail = reverse("webchat:site", args=[site.pk])

    assert member_client.get(SITES).status_code == 403
    assert member_client.get(detail).status_code == 403
    assert member_client.post(SITES, {"name": "Mine", "allowed_origins": ""}).status_code == 403
    assert member_client.post(detail, {"name": "Mine", "allowed_origins": ""}).status_code == 403
    rotate = reverse("webchat:site_secret_rotate", args=[site.pk])
    assert member_client.post(rotate).status_code == 403

    site.refresh_from_db()
    assert (site.name, site.identity_secret) == ("Acme Shop", secret)
    assert ChatSite.objects.count() == 1


def test_the_pages_need_a_login_and_an_unknown_site_is_404(
    admin_client: Client, site: ChatSite
) -> None:
    assert Client().get(SITES).status_code == 302
    assert admin_client.get("/webchat/sites/999999/").status_code == 404
    assert admin_client.post("/webchat/sites/999999/rotate-secret/").status_code == 404


def test_the_list_issues_a_constant_number_of_queries(
    admin_client: Client, django_assert_num_queries: Any
) -> None:
    make_site("First", origins=[ORIGIN])
    admin_client.get(SITES)
    # The session, the member, the sites.
    with django_assert_num_queries(3):
        assert admin_client.get(SITES).status_code == 200
    for n in range(5):
        make_site(f"Site {n}", origins=[ORIGIN])
    with django_assert_num_queries(3):
        assert text(admin_client.get(SITES)).count('<tr id="site-') == 6

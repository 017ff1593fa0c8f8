"""Sites in the Django admin: added through the services, with the snippet to paste."""

import re

import pytest
from django.test import Client

from rapport.audit.models import AuditEntry
from rapport.integrations.webchat.models import ChatSite
from rapport.integrations.webchat.tests.factories import make_visitor
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def test_an_admin_adds_a_site_and_its_page_shows_the_one_line_snippet(
    admin_client: Client, admin_user: User
) -> None:
    response = admin_client.post(
        "/admin/webchat/chatsite/add/",
        {
            "name": "Acme Shop",
            "allowed_origins": "https://WWW.acme-shop.example/\n\nhttp://localhost:3000\n",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content
    site = ChatSite.objects.get()
    assert site.allowed_origins == ["https://www.acme-shop.example", "http://localhost:3000"]
    assert AuditEntry.objects.get(action="webchat.site_create").actor == admin_user

    page = admin_client.get(f"/admin/webchat/chatsite/{site.pk}/change/").content.decode()
    snippet = (
        f"&lt;script src=&quot;http://127.0.0.1:8000/webchat/{site.public_key}/widget.js"
        "&quot; async&gt;&lt;/script&gt;"
    )
    assert snippet in page
    assert site.public_key in page
    # The origins are edited one per line.
    assert re.search(r"https://www.acme-shop.example\s+http://localhost:3000</textarea>", page)


def test_an_admin_changes_the_origins_and_a_bad_one_is_explained(
    admin_client: Client, site: ChatSite
) -> None:
    url = f"/admin/webchat/chatsite/{site.pk}/change/"
    bad = admin_client.post(
        url, {"name": "Acme Shop", "allowed_origins": "https://shop.example/app", "is_active": "on"}
    )
    assert bad.status_code == 200
    assert "is not an origin" in bad.content.decode()
    good = admin_client.post(url, {"name": "Acme Shop", "allowed_origins": "https://shop.example"})
    assert good.status_code == 302
    site.refresh_from_db()
    assert site.allowed_origins == ["https://shop.example"]
    assert site.is_active is False
    assert AuditEntry.objects.filter(action="webchat.site_update").count() == 1


def test_a_member_cannot_reach_chat_sites_in_the_admin(member_user: User, site: ChatSite) -> None:
    member_user.is_staff = True
    member_user.save()
    client = Client()
    client.force_login(member_user)
    assert client.get("/admin/webchat/chatsite/").status_code == 403
    assert client.get(f"/admin/webchat/chatsite/{site.pk}/change/").status_code == 403
    response = client.post("/admin/webchat/chatsite/add/", {"name": "Mine"})
    assert response.status_code == 403
    assert ChatSite.objects.count() == 1


def test_visitors_are_listed_read_only(admin_client: Client, site: ChatSite) -> None:
    visitor, _ = make_visitor(site, email="jo@acme.example")
    listing = admin_client.get("/admin/webchat/chatvisitor/")
    assert listing.status_code == 200
    assert "jo@acme.example" in listing.content.decode()
    page = admin_client.get(f"/admin/webchat/chatvisitor/{visitor.pk}/change/")
    assert page.status_code == 200
    assert "token_digest" not in page.content.decode()
    assert admin_client.get("/admin/webchat/chatvisitor/add/").status_code == 403

"""The accounts web UI, through Django's test client: what a person sees and can do."""

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from conftest import PASSWORD
from rapport.accounts import specs
from rapport.accounts.models import Account
from rapport.accounts.services import account_update
from rapport.accounts.services_fields import account_set_field_values
from rapport.accounts.tests.factories import make_account, make_field
from rapport.inbox.services import channel_create, channel_set_accounts
from rapport.users.models import Role, User

pytestmark = pytest.mark.django_db

LIST = reverse("accounts:list")
HTMX = {"HX-Request": "true"}


def _text(response: Any) -> str:
    return response.content.decode()


def _rows(response: Any) -> list[str]:
    """Return the account names in the directory table, in order."""
    return re.findall(r'class="account-link" href="/accounts/\d+/">([^<]+)</a>', _text(response))


def _png(size: tuple[int, int] = (40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- login -------------------------------------------------------------------------------


def test_login_page_shows_an_email_and_password_form_with_csrf(client: Client) -> None:
    response = client.get("/login/")
    assert response.status_code == 200
    text = _text(response)
    assert 'name="csrfmiddlewaretoken"' in text
    assert 'type="email"' in text and 'type="password"' in text


def test_login_then_logout(admin_user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/login/",
        {"username": admin_user.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == LIST
    assert "Ada Admin" in _text(response) and "Log out" in _text(response)

    token = client.cookies["csrftoken"].value
    response = client.post("/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get(LIST)["Location"].startswith("/login/")


def test_login_with_a_wrong_password_says_so(admin_user: User, client: Client) -> None:
    response = client.post("/login/", {"username": admin_user.email, "password": "nope"})
    assert response.status_code == 200
    assert "do not match a Rapport account" in _text(response)


@pytest.mark.parametrize(
    "url", ["/accounts/", "/accounts/new/", "/accounts/fields/", "/accounts/1/", "/accounts/1/logo"]
)
def test_pages_send_anonymous_visitors_to_login(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


def test_expired_session_in_an_htmx_request_reloads_the_login_page(client: Client) -> None:
    response = client.get(
        LIST, {"q": "acme"}, headers=HTMX | {"HX-Current-URL": "http://testserver/accounts/?q=a"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=%2Faccounts%2F%3Fq%3Da"


def test_api_and_health_check_are_not_redirected_to_login(client: Client) -> None:
    assert client.get("/api/v1/accounts").status_code == 401
    assert client.get("/healthz").status_code == 200


def test_pages_carry_a_strict_csp_and_no_inline_styles(admin_client: Client) -> None:
    account = make_account("Acme", domain="acme.example")
    for url in (LIST, account.get_absolute_url(), "/accounts/new/", "/accounts/fields/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self' 'nonce-" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "style=" not in _text(response), url
        nonce = re.search(r"'nonce-([^']+)'", policy)
        assert nonce is not None
        for tag in re.findall(r"<script[^>]*>", _text(response)):
            assert f'nonce="{nonce.group(1)}"' in tag, tag


# --- account page ------------------------------------------------------------------------


def test_account_page_shows_identity_crm_fields_contacts_and_channels(
    admin_client: Client,
) -> None:
    make_field("tier", source="crm", type="text")
    make_field("renewal_risk", type="choice", choices=["Low", "High"])
    account = make_account(
        "Bücher GmbH",
        domain="bücher.example",
        secondary_domains=["buecher.example"],
        contacts=4,
        crm_id="HS-77",
        industry="Books",
        arr=125000,
    )
    account_set_field_values(actor=None, account=account, values={"tier": "Enterprise"})
    account_set_field_values(actor=None, account=account, values={"renewal_risk": "High"})
    channel = channel_create(slack_team_id="T1", slack_channel_id="C9", name="buecher-shared")
    channel_set_accounts(actor=None, channel=channel, accounts=[account])

    text = _text(admin_client.get(account.get_absolute_url()))
    assert "bücher.example" in text and "buecher.example" in text
    assert "HubSpot" in text and "HS-77" in text and "Synced" in text
    assert "Tier" in text and "Enterprise" in text
    assert "Renewal Risk" in text and "High" in text
    assert all(f"person{i}@bücher.example" in text or f"person{i}@xn--" in text for i in range(4))
    assert "#buecher-shared" in text
    assert "125,000" in text and "Books" in text
    assert 'id="requests"' in text  # the account's request figures (rapport.metrics)


def test_unknown_account_is_404(admin_client: Client) -> None:
    assert admin_client.get("/accounts/999999/").status_code == 404


def test_member_edits_metadata_and_adds_a_contact(member_client: Client, member_user: User) -> None:
    account = make_account("Acme", domain="acme.example")
    response = member_client.post(
        reverse("accounts:metadata", args=[account.pk]),
        {
            "owner": member_user.pk,
            "status": "at_risk",
            "industry": "Retail",
            "employee_count": "250",
            "arr": "99000",
            "close_date": "2026-03-31",
            "website": "acme.example",
            "notes": "Renewal in Q2.",
        },
        follow=True,
    )
    text = _text(response)
    assert "Saved the account details." in text
    assert "At risk" in text and "Retail" in text and "https://acme.example" in text
    assert "Renewal in Q2." in text

    response = member_client.post(
        reverse("accounts:contact_add", args=[account.pk]),
        {"email": "Jane@Acme.example", "name": "Jane Doe"},
        follow=True,
    )
    assert "jane@acme.example" in _text(response) and "Jane Doe" in _text(response)
    response = member_client.post(
        reverse("accounts:contact_add", args=[account.pk]), {"email": "not-an-email"}
    )
    assert response.status_code == 400 and "is not an email address" in _text(response)


def test_metadata_form_errors_are_shown(member_client: Client) -> None:
    account = make_account("Acme", domain="acme.example")
    response = member_client.post(
        reverse("accounts:metadata", args=[account.pk]), {"status": "active", "arr": "lots"}
    )
    assert response.status_code == 400
    assert specs.ARR.message() in _text(response)


def test_admin_edits_identity_and_crm_mapping(admin_client: Client) -> None:
    other = make_account("Globex", domain="globex.example", crm_id="HS-1")
    account = make_account("Acme", domain="acme.example")
    response = admin_client.post(
        reverse("accounts:identity", args=[account.pk]),
        {
            "name": "Acme Inc",
            "primary_domain": "acme.example",
            "secondary_domains": "acme.io, acme.co.uk\nacme.dev",
        },
        follow=True,
    )
    text = _text(response)
    assert "Saved the name and domains." in text
    assert "acme.io" in text and "acme.co.uk" in text and "acme.dev" in text

    crm = reverse("accounts:crm", args=[account.pk])
    response = admin_client.post(
        crm, {"crm_provider": "hubspot", "crm_external_id": "HS-1", "crm_company_name": "X"}
    )
    assert response.status_code == 409
    assert f"already mapped to the account “{other.name}”" in _text(response)
    response = admin_client.post(
        crm,
        {"crm_provider": "salesforce", "crm_external_id": "SF-9", "crm_company_name": "Acme"},
        follow=True,
    )
    assert "Salesforce" in _text(response) and "SF-9" in _text(response)
    response = admin_client.post(crm, {"crm_provider": "", "crm_external_id": ""}, follow=True)
    assert "Unmapped the account from the CRM." in _text(response)
    assert Account.objects.get(pk=account.pk).crm_external_id == ""


def test_admin_sets_rapport_field_values(admin_client: Client) -> None:
    make_field("seats", type="number")
    account = make_account("Acme", domain="acme.example")
    url = reverse("accounts:field_values", args=[account.pk])
    response = admin_client.post(url, {"seats": "many"})
    assert response.status_code == 400 and "Seats must be a number." in _text(response)
    response = admin_client.post(url, {"seats": "1500"}, follow=True)
    assert "Saved the fields." in _text(response) and "1,500" in _text(response)


def test_logo_upload_rejects_a_non_image(admin_client: Client, media: Path) -> None:
    account = make_account("Acme", domain="acme.example")
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = admin_client.post(reverse("accounts:logo_update", args=[account.pk]), {"logo": fake})
    assert response.status_code == 400
    assert "The logo must be a PNG, JPEG, GIF or WebP image." in _text(response)
    assert admin_client.get(reverse("accounts:logo", args=[account.pk])).status_code == 404


def test_logo_upload_rejects_a_too_large_file(
    admin_client: Client, media: Path, settings: Any
) -> None:
    settings.LOGO_MAX_BYTES = 2048
    account = make_account("Acme", domain="acme.example")
    big = SimpleUploadedFile("big.png", _png((400, 400)) + b"\0" * 4096, content_type="image/png")
    response = admin_client.post(reverse("accounts:logo_update", args=[account.pk]), {"logo": big})
    assert response.status_code == 400
    assert "The logo must be at most 2 KB." in _text(response)


def test_logo_png_is_served_safely_and_can_be_removed(
    admin_client: Client, member_client: Client, media: Path
) -> None:
    account = make_account("Acme", domain="acme.example")
    good = SimpleUploadedFile("logo.png", _png(), content_type="image/png")
    response = admin_client.post(
        reverse("accounts:logo_update", args=[account.pk]), {"logo": good}, follow=True
    )
    assert "Saved the logo." in _text(response)
    assert reverse("accounts:logo", args=[account.pk]) in _text(response)

    logo = member_client.get(reverse("accounts:logo", args=[account.pk]))
    assert logo.status_code == 200
    assert logo["Content-Type"] == "image/png"
    assert logo["X-Content-Type-Options"] == "nosniff"
    assert logo["Content-Disposition"].startswith("inline")
    assert "private" in logo["Cache-Control"]
    assert logo.content.startswith(b"\x89PNG")

    response = admin_client.post(
        reverse("accounts:logo_update", args=[account.pk]), {"remove": "1"}, follow=True
    )
    assert "Removed the logo." in _text(response)
    assert member_client.get(reverse("accounts:logo", args=[account.pk])).status_code == 404


def test_member_cannot_change_the_logo(member_client: Client, media: Path) -> None:
    account = make_account("Acme", domain="acme.example")
    good = SimpleUploadedFile("logo.png", _png(), content_type="image/png")
    response = member_client.post(
        reverse("accounts:logo_update", args=[account.pk]), {"logo": good}
    )
    assert response.status_code == 403


def test_admin_deletes_an_account_after_confirming(admin_client: Client) -> None:
    account = make_account("Acme", domain="acme.example")
    url = reverse("accounts:delete", args=[account.pk])
    confirm = admin_client.get(url)
    assert "Delete “Acme”?" in _text(confirm) and "cannot be undone" in _text(confirm)
    response = admin_client.post(url, follow=True)
    assert "Deleted the account “Acme”." in _text(response)
    assert not Account.objects.filter(pk=account.pk).exists()


# --- new account, fields settings --------------------------------------------------------


def test_member_creates_an_account(member_client: Client, member_user: User) -> None:
    response = member_client.post(
        reverse("accounts:create"),
        {"name": "Initech", "primary_domain": "Initech.example", "status": "pending_handoff"},
        follow=True,
    )
    text = _text(response)
    assert "Created the account “Initech”." in text
    assert "initech.example" in text and "Pending handoff" in text


def test_new_account_conflict_links_to_the_existing_account(admin_client: Client) -> None:
    existing = make_account("Globex Corporation", domain="globex.example")
    response = admin_client.post(
        reverse("accounts:create"),
        {"name": "Globex 2", "primary_domain": "www.globex.example", "status": "active"},
    )
    assert response.status_code == 409
    text = _text(response)
    assert "already the primary domain of the account “Globex Corporation”" in text
    assert f'href="{existing.get_absolute_url()}"' in text
    assert Account.objects.filter(name="Globex 2").count() == 0


def test_fields_settings_are_for_admins_only(admin_client: Client, member_client: Client) -> None:
    make_field("tier", source="crm")
    assert member_client.get(reverse("accounts:fields")).status_code == 403
    assert f'href="{reverse("accounts:fields")}"' not in _text(member_client.get(LIST))
    response = member_client.post(
        reverse("accounts:fields"), {"key": "x", "label": "X", "type": "text"}
    )
    assert response.status_code == 403

    page = admin_client.get(reverse("accounts:fields"))
    assert page.status_code == 200 and "Tier" in _text(page)
    response = admin_client.post(
        reverse("accounts:fields"),
        {"key": "renewal_risk", "label": "Renewal risk", "type": "choice", "choices": "Low\nHigh"},
        follow=True,
    )
    text = _text(response)
    assert "Added the field “Renewal risk”." in text
    assert "renewal_risk" in text and "Low" in text and "High" in text

    response = admin_client.post(
        reverse("accounts:fields"), {"key": "renewal_risk", "label": "Again", "type": "text"}
    )
    assert response.status_code == 409 and "already exists" in _text(response)
    response = admin_client.post(
        reverse("accounts:fields"), {"key": "plan", "label": "Plan", "type": "choice"}
    )
    assert response.status_code == 400 and "needs at least one choice" in _text(response)


def test_navigation_shows_role_and_admin_links(admin_client: Client, member_client: Client) -> None:
    admin_page = _text(admin_client.get(LIST))
    assert f'href="{reverse("accounts:fields")}"' in admin_page and "Django admin" in admin_page
    assert ">Admin</span>" in admin_page
    member_page = _text(member_client.get(LIST))
    assert "Max Member" in member_page and ">Member</span>" in member_page
    assert "Django admin" not in member_page


def test_changes_made_elsewhere_show_in_the_history(admin_client: Client) -> None:
    """An update made elsewhere (API, another person) shows in the account's history."""
    account = make_account("Acme", domain="acme.example")
    admin = User.objects.get(role=Role.ADMIN)
    account_update(actor=admin, account=account, industry="Retail")
    history = _text(admin_client.get(account.get_absolute_url())).split('id="history"', 1)[1]
    assert "Industry" in history and "Retail" in history


def test_the_ui_stylesheet_and_script_are_found_by_staticfiles() -> None:
    from django.contrib.staticfiles import finders

    for path in ("rapport/rapport.css", "rapport/rapport.js", "django_htmx/htmx-2.min.js"):
        assert finders.find(path), (
            f"{path} is not found: settings need "
            "STATICFILES_DIRS = [BASE_DIR / 'rapport' / 'static'] to serve rapport/static/."
        )

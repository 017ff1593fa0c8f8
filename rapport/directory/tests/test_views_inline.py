"""Inline edits in the directory's cells: who may edit, what is saved, what history shows."""

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account
from rapport.audit.selectors import audit_entries_for
from rapport.directory.tests.kit import HTMX, LIST, page_text

pytestmark = pytest.mark.django_db


def _png(size: tuple[int, int] = (40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_admin_edits_a_domain_inline_and_the_change_is_in_the_history(
    admin_client: Client,
) -> None:
    account = make_account("Acme", domain="acme.example")
    list_page = page_text(admin_client.get(LIST))
    edit_url = reverse("accounts:cell_edit", args=[account.pk, "primary_domain"])
    assert edit_url in list_page

    form = admin_client.get(edit_url, headers=HTMX)
    assert 'value="acme.example"' in page_text(form)
    cell_url = reverse("accounts:cell", args=[account.pk, "primary_domain"])
    saved = admin_client.post(cell_url, {"value": "https://www.Acme-Corp.example/"}, headers=HTMX)
    assert saved.status_code == 200
    assert "acme-corp.example" in page_text(saved) and "<form" not in page_text(saved)

    detail = page_text(admin_client.get(account.get_absolute_url()))
    history = detail.split('id="history"', 1)[1]
    assert "Ada Admin" in history and "changed the account" in history
    assert re.search(r"Primary domain.*acme\.example.*→.*acme-corp\.example", history, re.S)


def test_admin_renames_an_account_inline(admin_client: Client) -> None:
    account = make_account("Acme", domain="acme.example")
    url = reverse("accounts:cell", args=[account.pk, "name"])
    response = admin_client.post(url, {"value": "Acme Corporation"}, headers=HTMX)
    assert response.status_code == 200 and "Acme Corporation" in page_text(response)
    response = admin_client.post(url, {"value": "   "}, headers=HTMX)
    assert response.status_code == 400 and "Name needs a value." in page_text(response)


def test_inline_domain_conflict_names_the_other_account(admin_client: Client) -> None:
    make_account("Globex Corporation", domain="globex.example")
    account = make_account("Acme", domain="acme.example")
    url = reverse("accounts:cell", args=[account.pk, "primary_domain"])
    response = admin_client.post(url, {"value": "globex.example"}, headers=HTMX)
    assert response.status_code == 409
    text = page_text(response)
    assert "Globex Corporation" in text and "already the primary domain" in text
    assert 'value="globex.example"' in text  # the form comes back with what was typed
    assert Account.objects.get(pk=account.pk).primary_domain == "acme.example"


def test_member_sees_no_edit_controls_and_cannot_edit(member_client: Client) -> None:
    account = make_account("Acme", domain="acme.example")
    page = page_text(member_client.get(LIST))
    assert "Acme" in page and "acme.example" in page
    assert "/cell/" not in page and "edit-btn" not in page

    url = reverse("accounts:cell", args=[account.pk, "primary_domain"])
    response = member_client.post(url, {"value": "evil.example"}, headers=HTMX)
    assert response.status_code == 403
    assert "Only an admin" in page_text(response)
    edit = reverse("accounts:cell_edit", args=[account.pk, "name"])
    assert member_client.get(edit, headers=HTMX).status_code == 403
    assert Account.objects.get(pk=account.pk).primary_domain == "acme.example"

    detail = page_text(member_client.get(account.get_absolute_url()))
    assert "Edit name, domains and logo" not in detail and "Delete account" not in detail
    assert "Map to a CRM company" not in detail
    response = member_client.post(
        reverse("accounts:identity", args=[account.pk]),
        {"name": "Hacked", "primary_domain": "evil.example"},
    )
    assert response.status_code == 403
    assert member_client.post(reverse("accounts:delete", args=[account.pk])).status_code == 403
    assert Account.objects.get(pk=account.pk).name == "Acme"


def _history(client: Client, account: Account) -> str:
    return page_text(client.get(account.get_absolute_url())).split('id="history"', 1)[1]


def test_admin_edits_secondary_domains_inline_and_the_history_shows_it(
    admin_client: Client,
) -> None:
    account = make_account("Acme", domain="acme.example", secondary_domains=["acme.net"])
    admin_client.post(reverse("accounts:columns"), {"columns": ["name", "secondary_domains"]})
    edit_url = reverse("accounts:cell_edit", args=[account.pk, "secondary_domains"])
    assert edit_url in page_text(admin_client.get(LIST))

    form = admin_client.get(edit_url, headers=HTMX)
    assert form.status_code == 200 and 'value="acme.net"' in page_text(form)
    cell_url = reverse("accounts:cell", args=[account.pk, "secondary_domains"])
    typed = "acme.io, Acme.dev  bücher.example"  # commas, spaces, any case, Unicode
    saved = admin_client.post(cell_url, {"value": typed}, headers=HTMX)
    assert saved.status_code == 200
    text = page_text(saved)
    assert "<form" not in text and "saved" in text
    assert "acme.io" in text and "acme.dev" in text and "bücher.example" in text
    assert "acme.net" not in text
    assert edit_url in text  # the admin can edit again from the saved cell

    history = _history(admin_client, account)
    assert "Ada Admin" in history and "changed the account" in history
    assert re.search(r"Secondary domains.*acme\.net.*→.*acme\.dev.*acme\.io", history, re.S)
    # Cancel shows the cell as stored.
    assert "acme.io" in page_text(admin_client.get(cell_url, headers=HTMX))


def test_inline_secondary_domains_error_is_shown_in_the_cell(admin_client: Client) -> None:
    account = make_account("Acme", domain="acme.example", secondary_domains=["acme.net"])
    url = reverse("accounts:cell", args=[account.pk, "secondary_domains"])
    response = admin_client.post(url, {"value": "acme.io, bad_domain"}, headers=HTMX)
    assert response.status_code == 400
    text = page_text(response)
    assert "bad_domain" in text and "is not a valid domain name." in text
    assert 'role="alert"' in text and 'aria-invalid="true"' in text
    assert 'value="acme.io, bad_domain"' in text  # what was typed comes back to be fixed
    assert list(account.domains.values_list("domain", flat=True)) == ["acme.net"]


def test_admin_maps_an_account_to_the_crm_inline_and_unmaps_it(admin_client: Client) -> None:
    other = make_account("Globex Corporation", domain="globex.example", crm_id="HS-1")
    account = make_account("Acme", domain="acme.example")
    edit_url = reverse("accounts:cell_edit", args=[account.pk, "crm_company"])
    assert edit_url in page_text(admin_client.get(LIST))

    form = page_text(admin_client.get(edit_url, headers=HTMX))
    assert 'name="crm_provider"' in form and 'name="crm_external_id"' in form
    assert 'name="crm_company_name"' in form

    url = reverse("accounts:cell", args=[account.pk, "crm_company"])
    taken = {"crm_provider": "hubspot", "crm_external_id": "HS-1", "crm_company_name": "Acme"}
    response = admin_client.post(url, taken, headers=HTMX)
    assert response.status_code == 409
    text = page_text(response)
    assert f"already mapped to the account “{other.name}” (id {other.pk})" in text
    assert 'value="HS-1"' in text and 'aria-invalid="true"' in text
    assert "HX-Retarget" not in response  # the message replaces the form, not the row
    assert Account.objects.get(pk=account.pk).crm_external_id == ""

    mapping = {"crm_provider": "salesforce", "crm_external_id": "SF-9", "crm_company_name": "Acme"}
    response = admin_client.post(url, mapping, headers=HTMX)
    assert response.status_code == 200
    # The whole row comes back, so the sync badge follows the new mapping.
    assert response["HX-Retarget"] == "closest tr" and response["HX-Reswap"] == "outerHTML"
    row = page_text(response)
    assert row.startswith('<tr class="saved">') and row.endswith("</tr>")
    assert 'class="badge crm-mapped"' in row and ">Mapped, not synced yet<" in row
    assert f'id="cell-{account.pk}-crm_company"' in row and ">Acme<" in row
    saved = Account.objects.get(pk=account.pk)
    assert (saved.crm_provider, saved.crm_external_id) == ("salesforce", "SF-9")

    # The id column edits the same mapping; an empty id unmaps the account.
    id_url = reverse("accounts:cell", args=[account.pk, "crm_id"])
    assert 'value="SF-9"' in page_text(
        admin_client.get(reverse("accounts:cell_edit", args=[account.pk, "crm_id"]), headers=HTMX)
    )
    response = admin_client.post(id_url, {"crm_provider": "", "crm_external_id": ""}, headers=HTMX)
    assert response.status_code == 200
    assert 'class="badge crm-not_mapped"' in page_text(response)
    assert ">Not mapped<" in page_text(response)
    assert Account.objects.get(pk=account.pk).crm_external_id == ""

    history = _history(admin_client, account)
    assert "changed the CRM mapping" in history
    assert re.search(r"CRM mapping.*Salesforce SF-9 \(Acme\)", history, re.S)


def test_inline_crm_mapping_needs_a_known_crm(admin_client: Client) -> None:
    account = make_account("Acme", domain="acme.example")
    url = reverse("accounts:cell", args=[account.pk, "crm_company"])
    response = admin_client.post(
        url, {"crm_provider": "rolodex", "crm_external_id": "R-1"}, headers=HTMX
    )
    assert response.status_code == 400
    assert "Select a valid choice." in page_text(response) and 'value="R-1"' in page_text(response)
    assert Account.objects.get(pk=account.pk).crm_external_id == ""


def test_admin_uploads_and_removes_a_logo_inline(admin_client: Client, media: Path) -> None:
    account = make_account("Acme", domain="acme.example")
    edit_url = reverse("accounts:cell_edit", args=[account.pk, "logo"])
    assert edit_url in page_text(admin_client.get(LIST))
    form = page_text(admin_client.get(edit_url, headers=HTMX))
    assert 'hx-encoding="multipart/form-data"' in form and 'type="file"' in form
    assert "Remove logo" not in form  # nothing to remove yet
    assert "{#" not in form and "{%" not in form

    url = reverse("accounts:cell", args=[account.pk, "logo"])
    good = SimpleUploadedFile("logo.png", _png(), content_type="image/png")
    response = admin_client.post(url, {"logo": good}, headers=HTMX)
    assert response.status_code == 200
    logo_url = reverse("accounts:logo", args=[account.pk])
    text = page_text(response)
    assert f'id="cell-{account.pk}-name"' in text and f'src="{logo_url}"' in text
    assert "saved" in text and "<form" not in text
    served = admin_client.get(logo_url)
    assert served["Content-Type"] == "image/png" and served.content.startswith(b"\x89PNG")
    assert "Remove logo" in page_text(admin_client.get(edit_url, headers=HTMX))

    response = admin_client.post(url, {"logo_remove": "1"}, headers=HTMX)
    assert response.status_code == 200 and logo_url not in page_text(response)
    assert admin_client.get(logo_url).status_code == 404
    assert "changed the logo" in _history(admin_client, account)


def test_inline_logo_upload_rejects_a_non_image(admin_client: Client, media: Path) -> None:
    account = make_account("Acme", domain="acme.example")
    url = reverse("accounts:cell", args=[account.pk, "logo"])
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = admin_client.post(url, {"logo": fake}, headers=HTMX)
    assert response.status_code == 400
    text = page_text(response)
    assert "The logo must be a PNG, JPEG, GIF or WebP image." in text
    assert 'role="alert"' in text and 'type="file"' in text  # the form stays, to try again
    response = admin_client.post(url, {}, headers=HTMX)
    assert response.status_code == 400 and "Choose an image to upload." in page_text(response)
    assert not Account.objects.get(pk=account.pk).logo
    assert list(media.iterdir()) == []


@pytest.mark.parametrize(
    ("field", "data", "refusal"),
    [
        ("secondary_domains", {"value": "evil.example"}, "name or domains"),
        (
            "crm_company",
            {"crm_provider": "hubspot", "crm_external_id": "EVIL", "crm_company_name": "Evil"},
            "CRM mapping",
        ),
        ("crm_id", {"crm_provider": "hubspot", "crm_external_id": "EVIL"}, "CRM mapping"),
        ("logo", {"logo_remove": "1"}, "logo"),
    ],
)
def test_member_is_refused_each_inline_edit_with_403(
    member_client: Client, media: Path, field: str, data: dict[str, str], refusal: str
) -> None:
    account = make_account("Acme", domain="acme.example", secondary_domains=["acme.net"])
    edit = member_client.get(reverse("accounts:cell_edit", args=[account.pk, field]), headers=HTMX)
    assert edit.status_code == 403
    assert f"Only an admin can change an account&#x27;s {refusal}." in page_text(edit)
    assert 'name="value"' not in page_text(edit) and 'type="file"' not in page_text(edit)

    url = reverse("accounts:cell", args=[account.pk, field])
    response = member_client.post(url, data, headers=HTMX)
    assert response.status_code == 403
    assert "Only an admin" in page_text(response)
    after = Account.objects.get(pk=account.pk)
    assert list(after.domains.values_list("domain", flat=True)) == ["acme.net"]
    assert after.crm_external_id == "" and not after.logo
    assert [e.action for e in audit_entries_for(after)] == ["account.create"]


def test_member_sees_the_new_columns_read_only(member_client: Client) -> None:
    make_account("Acme", domain="acme.example", secondary_domains=["acme.net"], crm_id="HS-7")
    columns = ["name", "secondary_domains", "crm_company", "crm_id", "crm_status"]
    member_client.post(reverse("accounts:columns"), {"columns": columns})
    page = page_text(member_client.get(LIST))
    assert ">acme.net<" in page and ">HS-7<" in page and ">Synced<" in page
    assert "/cell/" not in page and "edit-btn" not in page and "logo-btn" not in page

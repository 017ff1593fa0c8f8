"""The directory pages: the table, its filters, sorts, columns and pages, and inline edits."""

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from rapport.accounts.models import Account
from rapport.accounts.services import account_record_crm_sync
from rapport.accounts.services_fields import account_set_field_values
from rapport.accounts.tests.factories import make_account, make_field
from rapport.audit.selectors import audit_entries_for
from rapport.inbox.services import channel_create, channel_set_accounts
from rapport.users.models import User
from rapport.users.services import user_create

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


# --- directory ---------------------------------------------------------------------------


def test_directory_shows_default_columns_and_crm_totals(admin_client: Client) -> None:
    owner = user_create(email="olga@example.test", password=None, name="Olga Owner")
    acme = make_account("Acme", domain="acme.example", contacts=2, crm_id="C-1", owner=owner)
    make_account("Globex", domain="globex.example", crm_id="C-2")
    account_record_crm_sync(account=Account.objects.get(name="Globex"), ok=False, error="Boom 500")
    make_account("Initech", domain="initech.example")
    channel = channel_create(slack_team_id="T1", slack_channel_id="C01", name="acme-support")
    channel_set_accounts(actor=None, channel=channel, accounts=[acme])

    response = admin_client.get(LIST)
    assert response.status_code == 200
    text = _text(response)
    for header in (
        "Account",
        "Contacts",
        "Primary domain",
        "Slack channel",
        "Owner",
        "Company in CRM",
        "CRM sync",
    ):
        assert f">{header}</a>" in text
    assert re.search(r"<strong>3</strong> accounts", text)
    assert re.search(r"<strong>2</strong> mapped to the CRM", text)
    assert re.search(r"<strong>1</strong> failing to sync", text)
    assert "#acme-support" in text and "Olga Owner" in text and "acme.example" in text
    assert "Sync failing: Boom 500" in text  # the hover text of the failing badge
    assert _rows(response) == ["Acme", "Globex", "Initech"]


def test_directory_shows_domains_in_unicode(admin_client: Client) -> None:
    make_account("Bücher", domain="bücher.example")
    assert "bücher.example" in _text(admin_client.get(LIST))


def test_filter_in_the_url_narrows_the_rows(admin_client: Client) -> None:
    make_account("Acme", domain="acme.example", industry="Retail")
    make_account("Globex", domain="globex.example", industry="Energy")
    make_account("Acme Labs", domain="acmelabs.example", industry="Energy")

    assert _rows(admin_client.get(LIST, {"q": "acme"})) == ["Acme", "Acme Labs"]
    assert _rows(admin_client.get(LIST, {"q": "acme", "industry": "Energy"})) == ["Acme Labs"]
    response = admin_client.get(LIST, {"q": "nothing-like-this"})
    assert "No accounts match these filters." in _text(response)


def test_htmx_filter_pushes_a_clean_url_that_renders_the_same_view(admin_client: Client) -> None:
    make_account("Acme", domain="acme.example", status="at_risk")
    make_account("Globex", domain="globex.example")
    # The filter form sends every control, blank ones included.
    form = {"q": "", "owner": "", "status": "at_risk", "arr_min": "", "sort": "-name"}
    response = admin_client.get(LIST, form, headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in _text(response)  # only the results are swapped in
    assert _rows(response) == ["Acme"]
    pushed = response["HX-Push-Url"]
    assert pushed == "/accounts/?status=at_risk&sort=-name"
    assert "HX-Request" in response["Vary"]
    # The sort kept by the filter form follows the swapped results.
    assert 'id="filter-sort" value="-name" hx-swap-oob="true"' in _text(response)

    full = admin_client.get(pushed)
    assert "<html" in _text(full)
    assert _rows(full) == ["Acme"]
    assert '<option value="at_risk" selected>' in _text(full)


def test_filter_on_an_extra_field(admin_client: Client) -> None:
    tier = make_field("tier", type="choice", choices=["Gold", "Silver"])
    seats = make_field("seats", type="number")
    gold = make_account("Gold Co", domain="gold.example")
    silver = make_account("Silver Co", domain="silver.example")
    account_set_field_values(actor=None, account=gold, values={"tier": "Gold", "seats": "120"})
    account_set_field_values(actor=None, account=silver, values={"tier": "Silver", "seats": "5"})

    page = _text(admin_client.get(LIST))
    assert f'name="field.{tier.key}"' in page
    assert f'name="field.{seats.key}.min"' in page and f'name="field.{seats.key}.max"' in page
    assert _rows(admin_client.get(LIST, {"field.tier": "Gold"})) == ["Gold Co"]
    assert _rows(admin_client.get(LIST, {"field.seats.min": "10"})) == ["Gold Co"]


def test_bad_filter_shows_the_error_with_status_400(admin_client: Client) -> None:
    make_account("Acme", domain="acme.example")
    response = admin_client.get(LIST, {"crm_status": "sideways"})
    assert response.status_code == 400
    assert "crm_status must be one of" in _text(response)
    response = admin_client.get(LIST, {"sort": "password"}, headers=HTMX)
    assert response.status_code == 400
    assert "Cannot sort by" in _text(response)
    assert admin_client.get(LIST, {"page": "zero"}).status_code == 400


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"owner": "²"}, "owner must be a user id"),
        ({"open_requests_min": "²"}, "open_requests_min must be a whole number"),
        ({"page": "²"}, "page must be a whole number"),
    ],
)
def test_a_superscript_digit_answers_400_not_500(
    admin_client: Client, params: dict[str, str], message: str
) -> None:
    response = admin_client.get(LIST, params)
    assert response.status_code == 400
    assert message in _text(response)


def test_sort_by_clicking_a_column_header(admin_client: Client) -> None:
    make_account("Beta", domain="beta.example", arr=500)
    make_account("Alpha", domain="alpha.example", arr=100)
    make_account("Gamma", domain="gamma.example", arr=300)

    page = _text(admin_client.get(LIST))
    # The name column is the current sort, so its link flips it; others sort ascending first.
    assert 'href="/accounts/?sort=-name"' in page
    assert 'href="/accounts/?sort=owner"' in page
    assert _rows(admin_client.get(LIST, {"sort": "-name"})) == ["Gamma", "Beta", "Alpha"]
    assert _rows(admin_client.get(LIST, {"sort": "arr"})) == ["Alpha", "Gamma", "Beta"]
    assert _rows(admin_client.get(LIST, {"sort": "-arr"})) == ["Beta", "Gamma", "Alpha"]


def test_pagination_shows_fifty_a_page(admin_client: Client) -> None:
    for n in range(55):
        make_account(f"Account {n:02d}", domain=f"a{n}.example")
    first = admin_client.get(LIST)
    assert "1–50</strong> of 55" in _text(first)
    assert len(_rows(first)) == 50
    assert 'href="/accounts/?page=2"' in _text(first)

    second = admin_client.get(LIST, {"page": "2"})
    assert "51–55</strong> of 55" in _text(second)
    assert _rows(second) == [f"Account {n}" for n in range(50, 55)]
    assert "Page 2 of 2" in _text(second)


def _add_accounts(count: int, *, batch: str, owner: User) -> None:
    """Add accounts with everything a row can show: contacts, owner, channel, field value."""
    channel = channel_create(slack_team_id="T1", slack_channel_id=f"C-{batch}", name=batch)
    accounts = []
    for _ in range(count):
        account = make_account(contacts=4, owner=owner, secondary_domains=["alt.example"])
        account_set_field_values(actor=None, account=account, values={"tier": "Gold"})
        accounts.append(account)
    channel_set_accounts(actor=None, channel=channel, accounts=accounts)


def test_directory_issues_a_constant_number_of_queries(
    admin_client: Client,
    admin_user: User,
    django_assert_num_queries: Any,
) -> None:
    make_field("tier", type="text")
    # The heaviest rows: every default column plus secondary domains and an extra field.
    columns = ["name", "contacts", "primary_domain", "slack_channel", "owner", "crm_company"]
    columns += ["crm_status", "secondary_domains", "field.tier"]
    admin_client.post(reverse("accounts:columns"), {"columns": columns})
    _add_accounts(5, batch="first", owner=admin_user)
    with CaptureQueriesContext(connection) as five:
        response = admin_client.get(LIST)
    assert len(_rows(response)) == 5

    _add_accounts(25, batch="second", owner=admin_user)
    with django_assert_num_queries(len(five)):
        response = admin_client.get(LIST)
    assert len(_rows(response)) == 30
    assert _text(response).count(">alt.example<") == 30


def test_column_preference_is_remembered_per_user(
    admin_client: Client, member_client: Client
) -> None:
    make_field("renewal_tier", type="text")
    make_account("Acme", domain="acme.example", industry="Retail")
    page = _text(admin_client.get(LIST))
    # The picker offers Rapport, CRM and extra fields.
    assert "Rapport fields" in page and "CRM fields" in page and "Extra fields" in page
    assert 'value="field.renewal_tier"' in page

    response = admin_client.post(
        reverse("accounts:columns"),
        {"columns": ["name", "industry", "field.renewal_tier"], "query": "q=acme"},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/?q=acme"
    page = _text(admin_client.get(LIST))
    assert ">Industry</a>" in page and ">Renewal Tier</a>" in page and "Retail" in page
    assert ">Primary domain</a>" not in page
    # Another user keeps the defaults.
    assert ">Industry</a>" not in _text(member_client.get(LIST))


def test_column_picker_over_htmx_swaps_the_results(admin_client: Client) -> None:
    make_account("Acme", domain="acme.example", industry="Retail")
    response = admin_client.post(
        reverse("accounts:columns"), {"columns": ["name", "industry"]}, headers=HTMX
    )
    assert response.status_code == 200
    assert "<html" not in _text(response) and ">Industry</a>" in _text(response)
    response = admin_client.post(reverse("accounts:columns"), {"columns": ["bogus"]}, headers=HTMX)
    assert response.status_code == 400 and "Unknown columns: bogus" in _text(response)


# --- inline edits ------------------------------------------------------------------------


def test_admin_edits_a_domain_inline_and_the_change_is_in_the_history(
    admin_client: Client,
) -> None:
    account = make_account("Acme", domain="acme.example")
    list_page = _text(admin_client.get(LIST))
    edit_url = reverse("accounts:cell_edit", args=[account.pk, "primary_domain"])
    assert edit_url in list_page

    form = admin_client.get(edit_url, headers=HTMX)
    assert 'value="acme.example"' in _text(form)
    cell_url = reverse("accounts:cell", args=[account.pk, "primary_domain"])
    saved = admin_client.post(cell_url, {"value": "https://www.Acme-Corp.example/"}, headers=HTMX)
    assert saved.status_code == 200
    assert "acme-corp.example" in _text(saved) and "<form" not in _text(saved)

    detail = _text(admin_client.get(account.get_absolute_url()))
    history = detail.split('id="history"', 1)[1]
    assert "Ada Admin" in history and "changed the account" in history
    assert re.search(r"Primary domain.*acme\.example.*→.*acme-corp\.example", history, re.S)


def test_admin_renames_an_account_inline(admin_client: Client) -> None:
    account = make_account("Acme", domain="acme.example")
    url = reverse("accounts:cell", args=[account.pk, "name"])
    response = admin_client.post(url, {"value": "Acme Corporation"}, headers=HTMX)
    assert response.status_code == 200 and "Acme Corporation" in _text(response)
    response = admin_client.post(url, {"value": "   "}, headers=HTMX)
    assert response.status_code == 400 and "Name needs a value." in _text(response)


def test_inline_domain_conflict_names_the_other_account(admin_client: Client) -> None:
    make_account("Globex Corporation", domain="globex.example")
    account = make_account("Acme", domain="acme.example")
    url = reverse("accounts:cell", args=[account.pk, "primary_domain"])
    response = admin_client.post(url, {"value": "globex.example"}, headers=HTMX)
    assert response.status_code == 409
    text = _text(response)
    assert "Globex Corporation" in text and "already the primary domain" in text
    assert 'value="globex.example"' in text  # the form comes back with what was typed
    assert Account.objects.get(pk=account.pk).primary_domain == "acme.example"


def test_member_sees_no_edit_controls_and_cannot_edit(member_client: Client) -> None:
    account = make_account("Acme", domain="acme.example")
    page = _text(member_client.get(LIST))
    assert "Acme" in page and "acme.example" in page
    assert "/cell/" not in page and "edit-btn" not in page

    url = reverse("accounts:cell", args=[account.pk, "primary_domain"])
    response = member_client.post(url, {"value": "evil.example"}, headers=HTMX)
    assert response.status_code == 403
    assert "Only an admin" in _text(response)
    edit = reverse("accounts:cell_edit", args=[account.pk, "name"])
    assert member_client.get(edit, headers=HTMX).status_code == 403
    assert Account.objects.get(pk=account.pk).primary_domain == "acme.example"

    detail = _text(member_client.get(account.get_absolute_url()))
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
    return _text(client.get(account.get_absolute_url())).split('id="history"', 1)[1]


def test_admin_edits_secondary_domains_inline_and_the_history_shows_it(
    admin_client: Client,
) -> None:
    account = make_account("Acme", domain="acme.example", secondary_domains=["acme.net"])
    admin_client.post(reverse("accounts:columns"), {"columns": ["name", "secondary_domains"]})
    edit_url = reverse("accounts:cell_edit", args=[account.pk, "secondary_domains"])
    assert edit_url in _text(admin_client.get(LIST))

    form = admin_client.get(edit_url, headers=HTMX)
    assert form.status_code == 200 and 'value="acme.net"' in _text(form)
    cell_url = reverse("accounts:cell", args=[account.pk, "secondary_domains"])
    typed = "acme.io, Acme.dev  bücher.example"  # commas, spaces, any case, Unicode
    saved = admin_client.post(cell_url, {"value": typed}, headers=HTMX)
    assert saved.status_code == 200
    text = _text(saved)
    assert "<form" not in text and "saved" in text
    assert "acme.io" in text and "acme.dev" in text and "bücher.example" in text
    assert "acme.net" not in text
    assert edit_url in text  # the admin can edit again from the saved cell

    history = _history(admin_client, account)
    assert "Ada Admin" in history and "changed the account" in history
    assert re.search(r"Secondary domains.*acme\.net.*→.*acme\.dev.*acme\.io", history, re.S)
    # Cancel shows the cell as stored.
    assert "acme.io" in _text(admin_client.get(cell_url, headers=HTMX))


def test_inline_secondary_domains_error_is_shown_in_the_cell(admin_client: Client) -> None:
    account = make_account("Acme", domain="acme.example", secondary_domains=["acme.net"])
    url = reverse("accounts:cell", args=[account.pk, "secondary_domains"])
    response = admin_client.post(url, {"value": "acme.io, bad_domain"}, headers=HTMX)
    assert response.status_code == 400
    text = _text(response)
    assert "bad_domain" in text and "is not a valid domain name." in text
    assert 'role="alert"' in text and 'aria-invalid="true"' in text
    assert 'value="acme.io, bad_domain"' in text  # what was typed comes back to be fixed
    assert list(account.domains.values_list("domain", flat=True)) == ["acme.net"]


def test_admin_maps_an_account_to_the_crm_inline_and_unmaps_it(admin_client: Client) -> None:
    other = make_account("Globex Corporation", domain="globex.example", crm_id="HS-1")
    account = make_account("Acme", domain="acme.example")
    edit_url = reverse("accounts:cell_edit", args=[account.pk, "crm_company"])
    assert edit_url in _text(admin_client.get(LIST))

    form = _text(admin_client.get(edit_url, headers=HTMX))
    assert 'name="crm_provider"' in form and 'name="crm_external_id"' in form
    assert 'name="crm_company_name"' in form

    url = reverse("accounts:cell", args=[account.pk, "crm_company"])
    taken = {"crm_provider": "hubspot", "crm_external_id": "HS-1", "crm_company_name": "Acme"}
    response = admin_client.post(url, taken, headers=HTMX)
    assert response.status_code == 409
    text = _text(response)
    assert f"already mapped to the account “{other.name}” (id {other.pk})" in text
    assert 'value="HS-1"' in text and 'aria-invalid="true"' in text
    assert "HX-Retarget" not in response  # the message replaces the form, not the row
    assert Account.objects.get(pk=account.pk).crm_external_id == ""

    mapping = {"crm_provider": "salesforce", "crm_external_id": "SF-9", "crm_company_name": "Acme"}
    response = admin_client.post(url, mapping, headers=HTMX)
    assert response.status_code == 200
    # The whole row comes back, so the sync badge follows the new mapping.
    assert response["HX-Retarget"] == "closest tr" and response["HX-Reswap"] == "outerHTML"
    row = _text(response)
    assert row.startswith('<tr class="saved">') and row.endswith("</tr>")
    assert 'class="badge crm-synced"' in row and ">Synced<" in row
    assert f'id="cell-{account.pk}-crm_company"' in row and ">Acme<" in row
    saved = Account.objects.get(pk=account.pk)
    assert (saved.crm_provider, saved.crm_external_id) == ("salesforce", "SF-9")

    # The id column edits the same mapping; an empty id unmaps the account.
    id_url = reverse("accounts:cell", args=[account.pk, "crm_id"])
    assert 'value="SF-9"' in _text(
        admin_client.get(reverse("accounts:cell_edit", args=[account.pk, "crm_id"]), headers=HTMX)
    )
    response = admin_client.post(id_url, {"crm_provider": "", "crm_external_id": ""}, headers=HTMX)
    assert response.status_code == 200
    assert 'class="badge crm-not_mapped"' in _text(response) and ">Not mapped<" in _text(response)
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
    assert "Select a valid choice." in _text(response) and 'value="R-1"' in _text(response)
    assert Account.objects.get(pk=account.pk).crm_external_id == ""


def test_admin_uploads_and_removes_a_logo_inline(admin_client: Client, media: Path) -> None:
    account = make_account("Acme", domain="acme.example")
    edit_url = reverse("accounts:cell_edit", args=[account.pk, "logo"])
    assert edit_url in _text(admin_client.get(LIST))
    form = _text(admin_client.get(edit_url, headers=HTMX))
    assert 'hx-encoding="multipart/form-data"' in form and 'type="file"' in form
    assert "Remove logo" not in form  # nothing to remove yet
    assert "{#" not in form and "{%" not in form

    url = reverse("accounts:cell", args=[account.pk, "logo"])
    good = SimpleUploadedFile("logo.png", _png(), content_type="image/png")
    response = admin_client.post(url, {"logo": good}, headers=HTMX)
    assert response.status_code == 200
    logo_url = reverse("accounts:logo", args=[account.pk])
    text = _text(response)
    assert f'id="cell-{account.pk}-name"' in text and f'src="{logo_url}"' in text
    assert "saved" in text and "<form" not in text
    served = admin_client.get(logo_url)
    assert served["Content-Type"] == "image/png" and served.content.startswith(b"\x89PNG")
    assert "Remove logo" in _text(admin_client.get(edit_url, headers=HTMX))

    response = admin_client.post(url, {"logo_remove": "1"}, headers=HTMX)
    assert response.status_code == 200 and logo_url not in _text(response)
    assert admin_client.get(logo_url).status_code == 404
    assert "changed the logo" in _history(admin_client, account)


def test_inline_logo_upload_rejects_a_non_image(admin_client: Client, media: Path) -> None:
    account = make_account("Acme", domain="acme.example")
    url = reverse("accounts:cell", args=[account.pk, "logo"])
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = admin_client.post(url, {"logo": fake}, headers=HTMX)
    assert response.status_code == 400
    text = _text(response)
    assert "The logo must be a PNG, JPEG, GIF or WebP image." in text
    assert 'role="alert"' in text and 'type="file"' in text  # the form stays, to try again
    response = admin_client.post(url, {}, headers=HTMX)
    assert response.status_code == 400 and "Choose an image to upload." in _text(response)
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
    assert f"Only an admin can change an account&#x27;s {refusal}." in _text(edit)
    assert 'name="value"' not in _text(edit) and 'type="file"' not in _text(edit)

    url = reverse("accounts:cell", args=[account.pk, field])
    response = member_client.post(url, data, headers=HTMX)
    assert response.status_code == 403
    assert "Only an admin" in _text(response)
    after = Account.objects.get(pk=account.pk)
    assert list(after.domains.values_list("domain", flat=True)) == ["acme.net"]
    assert after.crm_external_id == "" and not after.logo
    assert [e.action for e in audit_entries_for(after)] == ["account.create"]


def test_member_sees_the_new_columns_read_only(member_client: Client) -> None:
    make_account("Acme", domain="acme.example", secondary_domains=["acme.net"], crm_id="HS-7")
    columns = ["name", "secondary_domains", "crm_company", "crm_id", "crm_status"]
    member_client.post(reverse("accounts:columns"), {"columns": columns})
    page = _text(member_client.get(LIST))
    assert ">acme.net<" in page and ">HS-7<" in page and ">Synced<" in page
    assert "/cell/" not in page and "edit-btn" not in page and "logo-btn" not in page

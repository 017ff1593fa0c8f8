"""The accounts JSON API under /api/v1/, as an API client and a browser session see it."""

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rapport.accounts.models import Account, AccountDomain, Contact, FieldDefinition, FieldValue
from rapport.accounts.tests.factories import image_bytes, make_account, make_field
from rapport.accounts.tests.kit import error_of, send
from rapport.audit.models import AuditEntry
from rapport.users.models import User

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/accounts"


# --- create --------------------------------------------------------------------------------


def test_create_answers_201_with_the_normalized_account(
    admin_api: Client, admin_user: User
) -> None:
    response = send(
        admin_api,
        "post",
        ACCOUNTS,
        {
            "name": "Acme",
            "primary_domain": "https://www.ACME.com/",
            "secondary_domains": ["Acme.IO", "bücher.de"],
            "owner_id": admin_user.pk,
            "status": "pending_handoff",
            "arr": "1000.5",
            "close_date": "2025-01-31",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["primary_domain"] == "acme.com"
    assert body["secondary_domains"] == ["acme.io", "xn--bcher-kva.de"]
    assert body["owner"]["id"] == admin_user.pk
    assert body["status"] == "pending_handoff"
    assert body["source"] == "manual"
    assert Account.objects.get().name == "Acme"
    entry = AuditEntry.objects.get(action="account.create")
    assert entry.actor == admin_user


def test_create_with_fields_and_crm(admin_api: Client) -> None:
    make_field("seats", type="number")
    response = send(
        admin_api,
        "post",
        ACCOUNTS,
        {
            "name": "Acme",
            "fields": {"seats": "12"},
            "crm": {"provider": "salesforce", "external_id": "001X", "company_name": "Acme Ltd"},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["fields"] == {"seats": 12}
    assert body["crm"]["external_id"] == "001X"
    assert body["crm"]["company_name"] == "Acme Ltd"


def test_a_duplicate_primary_domain_gets_409_naming_the_other_account(admin_api: Client) -> None:
    existing = make_account("Acme", domain="acme.com")
    response = send(admin_api, "post", ACCOUNTS, {"name": "Acme 2", "primary_domain": "ACME.COM"})
    message = error_of(response, 409)
    assert "Acme" in message
    assert str(existing.pk) in message
    assert response.json()["field"] == "primary_domain"
    assert Account.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "Acme", "primary_domain": "not a domain"}, 400),
        ({"name": "Acme", "secondary_domains": ["ok.com", "bad domain"]}, 400),
        ({"name": "Acme", "status": "asleep"}, 400),
        ({"name": "Acme", "owner_id": 999999}, 400),
        ({"name": "Acme", "fields": {"seats": "many"}}, 400),
        ({"name": "Acme", "fields": {"unknown": "1"}}, 400),
        ({"name": "Acme", "crm": {"provider": "pipedrive", "external_id": "1"}}, 422),
        ({"name": ""}, 422),
        ({}, 422),
        ({"name": "Acme", "employee_count": "many"}, 422),
        ({"name": "Acme", "arr": -1}, 422),
        ({"name": "Acme", "close_date": "tomorrow"}, 422),
        ({"name": "Acme", "secondary_domains": "acme.io"}, 422),
        ({"name": ["Acme"]}, 422),
    ],
)
def test_bad_input_to_create_is_refused_and_leaves_no_account_behind(
    admin_api: Client, body: dict[str, Any], status: int
) -> None:
    make_field("seats", type="number")
    error_of(send(admin_api, "post", ACCOUNTS, body), status)
    assert not Account.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_crm_conflict_on_create_leaves_no_account_behind(admin_api: Client) -> None:
    make_account("Acme", crm_id="4242")
    body = {"name": "Globex", "crm": {"provider": "hubspot", "external_id": "4242"}}
    assert "Acme" in error_of(send(admin_api, "post", ACCOUNTS, body), 409)
    assert list(Account.objects.values_list("name", flat=True)) == ["Acme"]


def test_malformed_json_gets_a_clear_error(admin_api: Client) -> None:
    response = admin_api.post(ACCOUNTS, data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    error_of(response, response.status_code)
    assert not Account.objects.exists()


def test_a_member_creates_a_plain_account(member_api: Client) -> None:
    response = send(member_api, "post", ACCOUNTS, {"name": "Acme", "primary_domain": "acme.com"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "extra",
    [{"fields": {"seats": 3}}, {"crm": {"provider": "hubspot", "external_id": "1"}}],
    ids=["rapport-fields", "crm-mapping"],
)
def test_a_member_cannot_create_with_admin_only_parts_and_nothing_is_left(
    member_api: Client, extra: dict[str, Any]
) -> None:
    make_field("seats", type="number")
    response = send(member_api, "post", ACCOUNTS, {"name": "Acme", **extra})
    assert "admin" in error_of(response, 403)
    assert not Account.objects.exists()


# --- get, patch, delete --------------------------------------------------------------------


def test_get_an_account(member_api: Client, account: Account) -> None:
    body = member_api.get(f"{ACCOUNTS}/{account.pk}").json()
    assert (body["id"], body["name"], body["secondary_domains"]) == (
        account.pk,
        "Acme",
        ["acme.io"],
    )


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
@pytest.mark.parametrize("account_id", [0, 987654, 2**63, 10**30])
def test_an_unknown_account_is_404(admin_api: Client, method: str, account_id: int) -> None:
    message = error_of(
        send(admin_api, method, f"{ACCOUNTS}/{account_id}", {"status": "active"}), 404
    )
    assert str(account_id) in message


def test_admin_patches_identity_and_gets_the_new_account(
    admin_api: Client, account: Account
) -> None:
    response = send(
        admin_api,
        "patch",
        f"{ACCOUNTS}/{account.pk}",
        {"name": "Acme Inc", "primary_domain": "www.acme-inc.com", "secondary_domains": []},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["primary_domain"], body["secondary_domains"]) == (
        "Acme Inc",
        "acme-inc.com",
        [],
    )
    assert AccountDomain.objects.count() == 0


def test_patch_only_changes_what_is_sent(admin_api: Client, member_user: User) -> None:
    account = make_account("Acme", domain="acme.com", owner=member_user, industry="Retail")
    response = send(admin_api, "patch", f"{ACCOUNTS}/{account.pk}", {"notes": "Call back"})
    assert response.status_code == 200
    account.refresh_from_db()
    assert (account.owner, account.industry, account.notes) == (member_user, "Retail", "Call back")


def test_patch_with_owner_null_clears_the_owner(member_api: Client, member_user: User) -> None:
    account = make_account("Acme", owner=member_user)
    response = send(member_api, "patch", f"{ACCOUNTS}/{account.pk}", {"owner_id": None})
    assert response.status_code == 200
    assert response.json()["owner"] is None


def test_patch_name_null_is_refused(admin_api: Client, account: Account) -> None:
    error_of(send(admin_api, "patch", f"{ACCOUNTS}/{account.pk}", {"name": None}), 400)
    account.refresh_from_db()
    assert account.name == "Acme"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Renamed"},
        {"primary_domain": "renamed.com"},
        {"secondary_domains": ["x.com"]},
        {"crm": {"provider": "hubspot", "external_id": "1"}},
        {"crm": None},
        {"fields": {"seats": 4}},
        {"status": "churned", "name": "Renamed"},
    ],
    ids=["name", "primary", "secondary", "crm-map", "crm-unmap", "fields", "mixed"],
)
def test_a_member_gets_403_for_identity_edits_and_nothing_changes(
    member_api: Client, account: Account, body: dict[str, Any]
) -> None:
    make_field("seats", type="number")
    response = send(member_api, "patch", f"{ACCOUNTS}/{account.pk}", body)
    assert "Only an admin" in error_of(response, 403)
    account.refresh_from_db()
    assert (account.name, account.primary_domain, account.status) == ("Acme", "acme.com", "none")
    assert list(account.domains.values_list("domain", flat=True)) == ["acme.io"]
    assert account.crm_external_id == ""
    assert not FieldValue.objects.exists()
    assert not AuditEntry.objects.filter(
        action__startswith="account.", actor__isnull=False
    ).exists()


def test_a_member_changes_owner_and_metadata(
    member_api: Client, member_user: User, account: Account
) -> None:
    response = send(
        member_api,
        "patch",
        f"{ACCOUNTS}/{account.pk}",
        {"owner_id": member_user.pk, "status": "at_risk", "industry": "Retail", "arr": 5000},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["owner"]["id"], body["status"], body["industry"]) == (
        member_user.pk,
        "at_risk",
        "Retail",
    )


def test_patch_with_a_taken_primary_domain_is_409(admin_api: Client, account: Account) -> None:
    make_account("Globex", domain="globex.com")
    response = send(
        admin_api, "patch", f"{ACCOUNTS}/{account.pk}", {"primary_domain": "globex.com"}
    )
    assert "Globex" in error_of(response, 409)


def test_a_patch_that_fails_half_way_changes_nothing(admin_api: Client, account: Account) -> None:
    make_field("seats", type="number")
    response = send(
        admin_api,
        "patch",
        f"{ACCOUNTS}/{account.pk}",
        {"name": "Acme Renamed", "status": "churned", "fields": {"seats": "many"}},
    )
    error_of(response, 400)
    account.refresh_from_db()
    assert (account.name, account.status) == ("Acme", "none")
    assert not AuditEntry.objects.filter(action="account.update").exists()


def test_patch_maps_and_unmaps_the_crm(admin_api: Client, account: Account) -> None:
    path = f"{ACCOUNTS}/{account.pk}"
    mapped = send(admin_api, "patch", path, {"crm": {"provider": "hubspot", "external_id": "99"}})
    # Entered by hand: mapped, but nothing synced from the CRM yet.
    assert mapped.json()["crm"]["sync_status"] == "mapped"
    unmapped = send(admin_api, "patch", path, {"crm": None})
    assert unmapped.json()["crm"]["external_id"] is None
    assert unmapped.json()["crm"]["sync_status"] == "not_mapped"


def test_patch_with_a_crm_id_mapped_elsewhere_is_409(admin_api: Client, account: Account) -> None:
    make_account("Globex", crm_id="99")
    body = {"crm": {"provider": "hubspot", "external_id": "99"}}
    assert "Globex" in error_of(send(admin_api, "patch", f"{ACCOUNTS}/{account.pk}", body), 409)


def test_patch_refuses_crm_fields(admin_api: Client, account: Account) -> None:
    make_field("plan", source="crm")
    body = {"fields": {"plan": "Enterprise"}}
    assert "CRM" in error_of(send(admin_api, "patch", f"{ACCOUNTS}/{account.pk}", body), 400)


@pytest.mark.parametrize(
    "body",
    [{"employee_count": -3}, {"arr": "NaN"}, {"owner_id": "me"}, {"close_date": "2025-13-01"}],
)
def test_patch_with_wrong_types_is_422(admin_api: Client, account: Account, body: dict) -> None:
    error_of(send(admin_api, "patch", f"{ACCOUNTS}/{account.pk}", body), 422)


def test_admin_deletes_an_account(admin_api: Client, account: Account) -> None:
    response = admin_api.delete(f"{ACCOUNTS}/{account.pk}")
    assert response.status_code == 204
    assert response.content == b""
    error_of(admin_api.get(f"{ACCOUNTS}/{account.pk}"), 404)


def test_a_member_cannot_delete_an_account(member_api: Client, account: Account) -> None:
    error_of(member_api.delete(f"{ACCOUNTS}/{account.pk}"), 403)
    assert Account.objects.filter(pk=account.pk).exists()


# --- logo ----------------------------------------------------------------------------------


def test_admin_uploads_and_removes_a_logo(
    admin_api: Client, account: Account, media_root: Path
) -> None:
    upload = SimpleUploadedFile("logo.png", image_bytes(300, 300), content_type="image/png")
    response = admin_api.post(f"{ACCOUNTS}/{account.pk}/logo", {"logo": upload})
    assert response.status_code == 200, response.content
    assert response.json()["logo_url"] == f"/accounts/{account.pk}/logo"
    removed = admin_api.delete(f"{ACCOUNTS}/{account.pk}/logo")
    assert removed.status_code == 200
    assert removed.json()["logo_url"] is None


def test_a_logo_that_is_not_an_image_is_400(
    admin_api: Client, account: Account, media_root: Path
) -> None:
    upload = SimpleUploadedFile("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    response = admin_api.post(f"{ACCOUNTS}/{account.pk}/logo", {"logo": upload})
    assert "PNG" in error_of(response, 400)
    account.refresh_from_db()
    assert not account.logo


def test_a_logo_upload_without_a_file_is_422(admin_api: Client, account: Account) -> None:
    error_of(admin_api.post(f"{ACCOUNTS}/{account.pk}/logo", {}), 422)


def test_a_member_cannot_upload_a_logo(
    member_api: Client, account: Account, media_root: Path
) -> None:
    upload = SimpleUploadedFile("logo.png", image_bytes(), content_type="image/png")
    error_of(member_api.post(f"{ACCOUNTS}/{account.pk}/logo", {"logo": upload}), 403)


# --- contacts and audit --------------------------------------------------------------------


def test_contacts_are_added_and_listed(member_api: Client, account: Account) -> None:
    path = f"{ACCOUNTS}/{account.pk}/contacts"
    response = send(member_api, "post", path, {"email": "Jane@ACME.com", "name": "Jane"})
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "jane@acme.com"
    send(member_api, "post", path, {"email": "bob@acme.com"})
    assert [c["email"] for c in member_api.get(path).json()] == ["bob@acme.com", "jane@acme.com"]
    assert member_api.get(f"{ACCOUNTS}/{account.pk}").json()["contact_count"] == 2


@pytest.mark.parametrize("email", ["not-an-email", "jane@not a domain"])
def test_a_malformed_contact_email_is_400(member_api: Client, account: Account, email: str) -> None:
    error_of(send(member_api, "post", f"{ACCOUNTS}/{account.pk}/contacts", {"email": email}), 400)
    assert not Contact.objects.exists()


def test_the_audit_history_shows_actor_and_before_after(
    admin_api: Client, member_api: Client, account: Account
) -> None:
    send(admin_api, "patch", f"{ACCOUNTS}/{account.pk}", {"name": "Acme Inc"})
    send(member_api, "patch", f"{ACCOUNTS}/{account.pk}", {"status": "at_risk"})
    body = member_api.get(f"{ACCOUNTS}/{account.pk}/audit").json()
    assert body["count"] == len(body["items"]) == 3
    newest, renamed, created = body["items"]
    assert (newest["actor"], newest["changes"]) == (
        "Max Member",
        {"status": {"before": "none", "after": "at_risk"}},
    )
    assert (renamed["actor"], renamed["changes"]["name"]) == (
        "Ada Admin",
        {"before": "Acme", "after": "Acme Inc"},
    )
    assert created["action"] == "account.create"


# --- fields --------------------------------------------------------------------------------


def test_admin_defines_a_field_and_everyone_lists_it(admin_api: Client, member_api: Client) -> None:
    response = send(
        admin_api,
        "post",
        "/api/v1/fields",
        {"key": "Tier", "label": "Tier", "type": "choice", "choices": ["Gold", "Silver"]},
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "key": "tier",
        "label": "Tier",
        "source": "rapport",
        "type": "choice",
        "choices": ["Gold", "Silver"],
    }
    listed = member_api.get("/api/v1/fields").json()
    assert listed["count"] == 1
    assert listed["items"][0]["key"] == "tier"


def test_defining_a_field_twice_is_409(admin_api: Client) -> None:
    make_field("seats", type="number")
    body = {"key": "seats", "label": "Seats"}
    assert "seats" in error_of(send(admin_api, "post", "/api/v1/fields", body), 409)


def test_a_member_cannot_define_a_field(member_api: Client) -> None:
    error_of(send(member_api, "post", "/api/v1/fields", {"key": "seats", "label": "Seats"}), 403)
    assert not FieldDefinition.objects.exists()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"key": "seats", "label": "Seats", "type": "money"}, 400),
        ({"key": "bad key!", "label": "Seats"}, 400),
        ({"key": "tier", "label": "Tier", "type": "choice"}, 400),
        ({"label": "Seats"}, 422),
    ],
)
def test_a_bad_field_definition_is_refused(
    admin_api: Client, body: dict[str, Any], status: int
) -> None:
    error_of(send(admin_api, "post", "/api/v1/fields", body), status)
    assert not FieldDefinition.objects.exists()


# --- documentation -------------------------------------------------------------------------


def test_the_openapi_schema_and_docs_are_served(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/accounts", "/api/v1/accounts/{account_id}", "/api/v1/fields"} <= set(paths)
    assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", ACCOUNTS, {"name": "Ac\x00me"}),
        ("post", ACCOUNTS, {"name": "Acme", "fields": {"notes": "a\x00b"}}),
        ("post", "/api/v1/fields", {"key": "tier", "label": "Tier", "choices": ["\x00"]}),
    ],
)
def test_text_with_nul_characters_is_refused_with_400(
    admin_api: Client, method: str, path: str, body: dict[str, Any]
) -> None:
    make_field("notes")
    assert "NUL" in error_of(send(admin_api, method, path, body), 400)
    assert not Account.objects.exists()

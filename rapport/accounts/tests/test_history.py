"""Every change a person can make to an account is in that account's history.

The table below walks each write face of an account: the API, the account page's forms,
the directory's inline cells, the mapping report, the Slack channels page and the
conversation move. Each write must add an audit entry to the account, and the account
page's History must show it with its label and new value. Guards at the end fail when
a new account write endpoint or service appears without a row here.
"""

import inspect
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from rapport.accounts import services, services_contacts, services_fields, services_logos
from rapport.accounts.models import Account, CrmSyncStatus
from rapport.accounts.services import account_record_crm_sync, account_set_crm_mapping
from rapport.accounts.templatetags.accounts_ui import AUDIT_ACTIONS
from rapport.accounts.tests.factories import make_account, make_channel, make_field
from rapport.accounts.tests.kit import audit_of, send
from rapport.audit.models import AuditEntry
from rapport.inbox.models import Channel, Conversation, Source
from rapport.users.models import User

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@dataclass(frozen=True)
class Faces:
    """The ways in: an admin's and a member's browser session and API token."""

    admin: Client
    member: Client
    admin_api: Client
    member_api: Client
    admin_user: User


@dataclass(frozen=True)
class Write:
    """One change a person makes to an account, and what its history then shows."""

    do: Callable[[Faces, Account], Any]
    action: str
    label: str
    after: str
    # The API operation it exercises, for the guard on the OpenAPI document.
    api: tuple[str, str] | None = None
    # The service it goes through, for the guard on the account services.
    service: str = ""


def _png() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 120, 200)).save(out, format="PNG")
    out.seek(0)
    out.name = "logo.png"
    return out


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201, 204, 302), response.content[:500]
    return response


def _patch(body: dict[str, Any]) -> Callable[[Faces, Account], Any]:
    return lambda f, a: _ok(send(f.admin_api, "patch", f"/api/v1/accounts/{a.pk}", body))


def _member_patch(body: dict[str, Any]) -> Callable[[Faces, Account], Any]:
    return lambda f, a: _ok(send(f.member_api, "patch", f"/api/v1/accounts/{a.pk}", body))


def _metadata_form(**values: str) -> Callable[[Faces, Account], Any]:
    def do(f: Faces, a: Account) -> Any:
        data = {"status": "active", **values}
        return _ok(f.member.post(reverse("accounts:metadata", args=[a.pk]), data))

    return do


def _cell(field: str, value: str) -> Callable[[Faces, Account], Any]:
    def do(f: Faces, a: Account) -> Any:
        url = reverse("accounts:cell", args=[a.pk, field])
        return _ok(f.admin.post(url, {"value": value}, headers=HTMX))

    return do


def _move_conversation(f: Faces, a: Account) -> Any:
    conversation = Conversation.objects.create(
        source=Source.EMAIL,
        thread_key="history-move",
        requester_email="newcomer@elsewhere.example",
        requester_name="Newcomer",
        subject="Hello",
    )
    url = f"/api/v1/conversations/{conversation.pk}/account"
    return _ok(send(f.member_api, "post", url, {"account_id": a.pk}))


def _link_channel(f: Faces, a: Account) -> Any:
    channel = make_channel("acme-support")
    return _ok(
        f.admin.post(reverse("inbox:channel_accounts", args=[channel.pk]), {"account": a.pk})
    )


def _unlink_channel(f: Faces, a: Account) -> Any:
    channel = Channel.objects.get(name="acme-shared")
    url = f"/api/v1/channels/{channel.pk}/accounts"
    return _ok(send(f.admin_api, "put", url, {"account_ids": []}))


ACCOUNT = "/api/v1/accounts/{account_id}"

WRITES: dict[str, Write] = {
    # --- the API ---------------------------------------------------------------------------
    "api: name": Write(
        _patch({"name": "Acme Corp"}),
        "account.update",
        "Name",
        "Acme Corp",
        api=("patch", ACCOUNT),
        service="account_change",
    ),
    "api: primary domain": Write(
        _patch({"primary_domain": "acme.test"}),
        "account.update",
        "Primary domain",
        "acme.test",
        service="account_update",
    ),
    "api: secondary domains": Write(
        _patch({"secondary_domains": ["acme.net"]}),
        "account.update",
        "Secondary domains",
        "acme.net",
    ),
    "api: owner": Write(
        lambda f, a: _patch({"owner_id": f.admin_user.pk})(f, a),
        "account.update",
        "Owner",
        "Ada Admin",
    ),
    "api: SLA tier": Write(
        _member_patch({"tier": "enterprise"}), "account.update", "SLA tier", "enterprise"
    ),
    "api: status": Write(
        _member_patch({"status": "at_risk"}), "account.update", "Status", "At risk"
    ),
    "api: industry": Write(
        _member_patch({"industry": "Retail"}), "account.update", "Industry", "Retail"
    ),
    "api: employees": Write(
        _member_patch({"employee_count": 250}), "account.update", "Employees", "250"
    ),
    "api: ARR": Write(_member_patch({"arr": "12000.50"}), "account.update", "ARR", "12000.50"),
    "api: close date": Write(
        _member_patch({"close_date": "2025-03-01"}), "account.update", "Close date", "2025-03-01"
    ),
    "api: website": Write(
        _member_patch({"website": "acme.example"}),
        "account.update",
        "Website",
        "https://acme.example",
    ),
    "api: notes": Write(_member_patch({"notes": "Renewal"}), "account.update", "Notes", "Renewal"),
    "api: CRM mapping": Write(
        _patch({"crm": {"provider": "hubspot", "external_id": "HS-9"}}),
        "account.crm_mapping",
        "CRM mapping",
        "HubSpot HS-9",
        service="account_set_crm_mapping",
    ),
    "api: field values": Write(
        _patch({"fields": {"seats": 40}}),
        "account.fields",
        "Seats",
        "40",
        service="account_set_field_values",
    ),
    "api: logo upload": Write(
        lambda f, a: _ok(f.admin_api.post(f"/api/v1/accounts/{a.pk}/logo", {"logo": _png()})),
        "account.logo",
        "Logo",
        "logos/",
        api=("post", ACCOUNT + "/logo"),
        service="account_set_logo",
    ),
    "api: logo removal": Write(
        lambda f, a: (
            _ok(f.admin_api.post(f"/api/v1/accounts/{a.pk}/logo", {"logo": _png()})),
            _ok(f.admin_api.delete(f"/api/v1/accounts/{a.pk}/logo")),
        ),
        "account.logo",
        "Logo",
        "",
        api=("delete", ACCOUNT + "/logo"),
    ),
    "api: contact": Write(
        lambda f, a: _ok(
            send(
                f.member_api,
                "post",
                f"/api/v1/accounts/{a.pk}/contacts",
                {"email": "kim@acme.example"},
            )
        ),
        "account.contact_add",
        "Contacts",
        "kim@acme.example",
        api=("post", ACCOUNT + "/contacts"),
        service="contact_add_to_account",
    ),
    "api: create": Write(
        lambda f, a: None,
        "account.create",
        "Name",
        "Acme",
        api=("post", "/api/v1/accounts"),
        service="account_create_with",
    ),
    "api: delete": Write(
        lambda f, a: _ok(f.admin_api.delete(f"/api/v1/accounts/{a.pk}")),
        "account.delete",
        "",
        "",
        api=("delete", ACCOUNT),
        service="account_delete",
    ),
    # --- the account page --------------------------------------------------------------------
    "page: identity": Write(
        lambda f, a: _ok(
            f.admin.post(
                reverse("accounts:identity", args=[a.pk]),
                {
                    "name": "Acme Ltd",
                    "primary_domain": "acme.example",
                    "secondary_domains": "acme.io",
                },
            )
        ),
        "account.update",
        "Name",
        "Acme Ltd",
    ),
    "page: SLA tier": Write(_metadata_form(tier="gold"), "account.update", "SLA tier", "gold"),
    "page: owner and metadata": Write(
        lambda f, a: _metadata_form(owner=str(f.admin_user.pk), industry="Energy")(f, a),
        "account.update",
        "Industry",
        "Energy",
    ),
    "page: CRM mapping": Write(
        lambda f, a: _ok(
            f.admin.post(
                reverse("accounts:crm", args=[a.pk]),
                {"crm_provider": "salesforce", "crm_external_id": "SF-1", "crm_company_name": ""},
            )
        ),
        "account.crm_mapping",
        "CRM mapping",
        "Salesforce SF-1",
    ),
    "page: field values": Write(
        lambda f, a: _ok(
            f.admin.post(reverse("accounts:field_values", args=[a.pk]), {"seats": "7"})
        ),
        "account.fields",
        "Seats",
        "7",
    ),
    "page: logo": Write(
        lambda f, a: _ok(
            f.admin.post(reverse("accounts:logo_update", args=[a.pk]), {"logo": _png()})
        ),
        "account.logo",
        "Logo",
        "logos/",
    ),
    "page: contact": Write(
        lambda f, a: _ok(
            f.member.post(
                reverse("accounts:contact_add", args=[a.pk]), {"email": "lee@acme.example"}
            )
        ),
        "account.contact_add",
        "Contacts",
        "lee@acme.example",
    ),
    "page: delete": Write(
        lambda f, a: _ok(f.admin.post(reverse("accounts:delete", args=[a.pk]))),
        "account.delete",
        "",
        "",
    ),
    # --- the directory's inline cells --------------------------------------------------------
    "cell: name": Write(_cell("name", "Acme Inline"), "account.update", "Name", "Acme Inline"),
    "cell: primary domain": Write(
        _cell("primary_domain", "acme.dev"), "account.update", "Primary domain", "acme.dev"
    ),
    "cell: secondary domains": Write(
        _cell("secondary_domains", "acme.io, acme.org"),
        "account.update",
        "Secondary domains",
        "acme.org",
    ),
    "cell: CRM": Write(
        lambda f, a: _ok(
            f.admin.post(
                reverse("accounts:cell", args=[a.pk, "crm_id"]),
                {"crm_provider": "hubspot", "crm_external_id": "HS-3", "crm_company_name": "Acme"},
                headers=HTMX,
            )
        ),
        "account.crm_mapping",
        "CRM mapping",
        "HubSpot HS-3",
    ),
    "cell: logo": Write(
        lambda f, a: _ok(
            f.admin.post(
                reverse("accounts:cell", args=[a.pk, "logo"]), {"logo": _png()}, headers=HTMX
            )
        ),
        "account.logo",
        "Logo",
        "logos/",
    ),
    # --- elsewhere ---------------------------------------------------------------------------
    "mapping report: apply a pattern": Write(
        lambda f, a: _ok(
            f.admin.post(
                reverse("mapping:pattern_apply"), {"account": a.pk, "domain": "acme.co.uk"}
            )
        ),
        "account.update",
        "Secondary domains",
        "acme.co.uk",
    ),
    "channels: link a Slack channel": Write(
        _link_channel, "account.channel_link", "Slack channels", "#acme-support"
    ),
    "channels: unlink a Slack channel": Write(
        _unlink_channel, "account.channel_unlink", "Slack channels", ""
    ),
    "conversation: moved here, requester made a contact": Write(
        _move_conversation, "account.contact_add", "Contacts", "newcomer@elsewhere.example"
    ),
}


@pytest.fixture
def faces(
    admin_client: Client,
    member_client: Client,
    admin_api: Client,
    member_api: Client,
    admin_user: User,
    media_root: object,
) -> Faces:
    return Faces(admin_client, member_client, admin_api, member_api, admin_user)


@pytest.fixture
def acme(db: None) -> Account:
    make_field("seats", type="number")
    account = make_account("Acme", domain="acme.example", secondary_domains=["acme.io"])
    make_channel("acme-shared", accounts=[account])
    return account


def _history(client: Client, account: Account) -> str:
    page = client.get(account.get_absolute_url()).content.decode()
    match = re.search(r'<section class="card" id="history".*?</section>', page, re.S)
    assert match, "the account page has no History section"
    return match.group(0)


@pytest.mark.parametrize("name", list(WRITES))
def test_each_account_write_lands_in_the_accounts_history(
    name: str, faces: Faces, acme: Account
) -> None:
    write = WRITES[name]
    seen = {e.pk for e in audit_of(acme)}
    if write.action == "account.create":
        response = _ok(
            send(
                faces.member_api,
                "post",
                "/api/v1/accounts",
                {"name": "Initech", "primary_domain": "initech.example", "tier": "gold"},
            )
        )
        acme = Account.objects.get(pk=response.json()["id"])
        write = Write(write.do, write.action, "SLA tier", "gold")
        seen = set()

    write.do(faces, acme)

    new = [e for e in audit_of(acme, write.action) if e.pk not in seen]
    assert new, f"{name}: no {write.action} entry in the account's history"
    if write.action == "account.delete":
        assert not Account.objects.filter(pk=acme.pk).exists()
        return
    history = _history(faces.member, acme)
    assert AUDIT_ACTIONS[write.action] in history
    assert f'<span class="change-label">{write.label}</span>' in history, history
    assert write.after in history


def test_a_tier_change_records_before_and_after(faces: Faces, acme: Account) -> None:
    """The SLA tier picks the account's SLA policy; changing it was not recorded before."""
    _member_patch({"tier": "gold"})(faces, acme)
    _member_patch({"tier": "platinum"})(faces, acme)
    latest = audit_of(acme, "account.update")[0]
    assert latest.changes == {"tier": {"before": "gold", "after": "platinum"}}
    assert latest.actor_label == "Max Member"


# --- the guards ------------------------------------------------------------------------------


def test_every_account_write_endpoint_of_the_api_is_walked(client: Client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    writes = {
        (method, path)
        for path, operations in document["paths"].items()
        if path == "/api/v1/accounts" or path.startswith("/api/v1/accounts/{account_id}")
        for method in operations
        if method in ("post", "put", "patch", "delete")
    }
    walked = {w.api for w in WRITES.values() if w.api}
    assert writes - walked == set(), "an account write endpoint without a history test"


def _public_writes() -> set[str]:
    """The account services a person's action calls: public functions taking an actor and
    an account (or creating one)."""
    found = set()
    for module in (services, services_contacts, services_fields, services_logos):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            parameters = inspect.signature(function).parameters
            if "actor" in parameters and (
                "account" in parameters or name.startswith("account_create")
            ):
                found.add(name)
    return found


def test_every_account_write_service_is_walked() -> None:
    walked = {w.service for w in WRITES.values() if w.service}
    # account_create_with calls account_create; account_field_values_write leaves the
    # audit entry to the services that call it; contact_remove_from_account has no face
    # of its own (a conversation's move calls it) and its own test below.
    composed = {"account_create", "account_field_values_write", "contact_remove_from_account"}
    assert _public_writes() - walked - composed == set()


def test_contact_removal_is_in_the_history(admin_user: User, acme: Account) -> None:
    contact = services_contacts.contact_add_to_account(
        account=acme, email="gone@acme.example", actor=admin_user
    )
    services_contacts.contact_remove_from_account(actor=admin_user, account=acme, contact=contact)
    assert audit_of(acme, "account.contact_remove")


# --- the CRM sync status of a hand mapping ----------------------------------------------------


def test_a_hand_entered_crm_id_shows_mapped_not_synced_until_a_sync_has_run(
    faces: Faces, acme: Account
) -> None:
    _patch({"crm": {"provider": "hubspot", "external_id": "HS-9"}})(faces, acme)

    page = faces.member.get(acme.get_absolute_url()).content.decode()
    directory = faces.member.get(reverse("accounts:list")).content.decode()
    for text in (page, directory):
        assert "Mapped, not synced yet" in text
        assert 'class="badge crm-synced"' not in text
    api = send(faces.member_api, "get", f"/api/v1/accounts/{acme.pk}").json()
    assert api["crm"]["sync_status"] == "mapped"
    assert api["crm"]["last_synced_at"] is None

    account_record_crm_sync(account=acme, ok=True)

    page = faces.member.get(acme.get_absolute_url()).content.decode()
    assert "CRM: Synced" in page and "Mapped, not synced yet" not in page


def test_mapping_to_another_company_after_a_sync_is_not_synced_again_until_the_next(
    admin_user: User, acme: Account
) -> None:
    account_set_crm_mapping(actor=admin_user, account=acme, provider="hubspot", external_id="1")
    account_record_crm_sync(account=acme, ok=True)
    # Renaming the company keeps the sync; another company id starts over.
    acme = account_set_crm_mapping(
        actor=admin_user, account=acme, provider="hubspot", external_id="1", company_name="Acme"
    )
    assert acme.crm_sync_status == CrmSyncStatus.SYNCED
    acme = account_set_crm_mapping(
        actor=admin_user, account=acme, provider="hubspot", external_id="2"
    )
    assert (acme.crm_sync_status, acme.crm_last_synced_at) == (CrmSyncStatus.MAPPED, None)


def test_the_directory_filters_accounts_mapped_but_not_synced(
    member_api: Client, admin_user: User, acme: Account
) -> None:
    synced = make_account("Synced Co", crm_id="S-1")
    account_set_crm_mapping(actor=admin_user, account=acme, provider="hubspot", external_id="M-1")
    body = member_api.get("/api/v1/accounts", {"crm_status": "mapped"}).json()
    assert [item["name"] for item in body["items"]] == ["Acme"]
    assert synced.crm_sync_status == CrmSyncStatus.SYNCED


def test_existing_links_no_sync_ever_confirmed_become_mapped_on_upgrade(acme: Account) -> None:
    import importlib

    from django.apps import apps

    Account.objects.filter(pk=acme.pk).update(
        crm_provider="hubspot", crm_external_id="OLD", crm_sync_status="synced"
    )
    confirmed = make_account("Confirmed", crm_id="C-1")
    migration = importlib.import_module("rapport.accounts.migrations.0008_crm_mapped_status")

    migration.hand_mapped_never_synced(apps, None)

    assert Account.objects.get(pk=acme.pk).crm_sync_status == CrmSyncStatus.MAPPED
    assert Account.objects.get(pk=confirmed.pk).crm_sync_status == CrmSyncStatus.SYNCED


def test_no_audit_entry_without_a_change(faces: Faces, acme: Account) -> None:
    before = AuditEntry.objects.count()
    _member_patch({"tier": ""})(faces, acme)
    assert AuditEntry.objects.count() == before

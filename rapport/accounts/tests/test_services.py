"""Account services: the one write path shared by the API and the web UI."""

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest

from rapport.accounts import services
from rapport.accounts.models import (
    Account,
    AccountDomain,
    Contact,
    CrmSyncStatus,
    FieldValue,
)
from rapport.accounts.tests.factories import (
    make_account,
    make_field,
)
from rapport.accounts.tests.kit import audit_of
from rapport.audit.models import AuditEntry
from rapport.core.errors import Conflict, InvalidInput, PermissionDenied
from rapport.users.models import Role, User

pytestmark = pytest.mark.django_db


def _secondary(account: Account) -> list[str]:
    return sorted(AccountDomain.objects.filter(account=account).values_list("domain", flat=True))


def _search(q: str) -> list[str]:
    """Return the names of the accounts whose search text holds every word of *q*."""
    accounts = Account.objects.order_by("name")
    for word in q.lower().split():
        accounts = accounts.filter(search_text__contains=word)
    return list(accounts.values_list("name", flat=True))


# --- account_create ------------------------------------------------------------------------


def test_create_stores_domains_in_normal_form(admin_user: User) -> None:
    account = services.account_create(
        actor=admin_user,
        name="  Acme   Corp ",
        primary_domain="https://www.ACME.com/pricing",
        secondary_domains=["WWW.Acme.io", "acme.io", "acme.com", "", "bücher.de"],
    )
    assert account.name == "Acme Corp"
    assert account.primary_domain == "acme.com"
    assert _secondary(account) == ["acme.io", "xn--bcher-kva.de"]


def test_create_refuses_a_primary_domain_another_account_has_and_names_it(
    admin_user: User,
) -> None:
    first = services.account_create(actor=admin_user, name="Acme", primary_domain="acme.com")
    with pytest.raises(Conflict) as caught:
        services.account_create(actor=admin_user, name="Acme Again", primary_domain="WWW.ACME.COM.")
    assert "Acme" in caught.value.message
    assert f"id {first.pk}" in caught.value.message
    assert caught.value.field == "primary_domain"
    assert Account.objects.count() == 1


def test_create_allows_two_accounts_to_share_a_secondary_domain(admin_user: User) -> None:
    one = services.account_create(
        actor=admin_user, name="One", primary_domain="one.com", secondary_domains=["gmail.com"]
    )
    two = services.account_create(
        actor=admin_user, name="Two", primary_domain="two.com", secondary_domains=["gmail.com"]
    )
    assert _secondary(one) == _secondary(two) == ["gmail.com"]


def test_create_allows_a_secondary_domain_that_is_another_accounts_primary(
    admin_user: User,
) -> None:
    make_account("Parent", domain="parent.com")
    child = services.account_create(
        actor=admin_user, name="Child", primary_domain="child.com", secondary_domains=["parent.com"]
    )
    assert _secondary(child) == ["parent.com"]


def test_accounts_without_a_primary_domain_may_coexist(admin_user: User) -> None:
    services.account_create(actor=admin_user, name="No domain 1")
    services.account_create(actor=admin_user, name="No domain 2", primary_domain="  ")
    assert Account.objects.filter(primary_domain__isnull=True).count() == 2


def test_create_records_an_audit_entry_with_the_actor(admin_user: User) -> None:
    account = services.account_create(
        actor=admin_user, name="Acme", primary_domain="acme.com", secondary_domains=["acme.io"]
    )
    [entry] = audit_of(account, "account.create")
    assert entry.actor == admin_user
    assert entry.actor_label == "Ada Admin"
    assert entry.object_label == "Acme"
    assert entry.changes["name"] == {"before": None, "after": "Acme"}
    assert entry.changes["primary_domain"] == {"before": None, "after": "acme.com"}
    assert entry.changes["secondary_domains"] == {"before": None, "after": ["acme.io"]}


def test_create_by_the_system_is_audited_as_system(db: None) -> None:
    account = make_account("Auto", domain="auto.example")
    [entry] = audit_of(account, "account.create")
    assert entry.actor is None
    assert entry.actor_label == "system"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"primary_domain": "not a domain"}, "primary_domain"),
        ({"secondary_domains": ["ok.com", "bad domain"]}, "secondary_domains"),
        ({"status": "sleeping"}, "status"),
        ({"source": "carrier pigeon"}, "source"),
        ({"arr": "-5"}, "arr"),
        ({"arr": "a lot"}, "arr"),
        ({"employee_count": -1}, "employee_count"),
        ({"close_date": "31/12/2024"}, "close_date"),
        ({"industry": "x" * 101}, "industry"),
    ],
)
def test_create_with_bad_input_is_refused_and_stores_nothing(
    admin_user: User, kwargs: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"name": "Acme", "primary_domain": "acme.com"} | kwargs
    with pytest.raises(InvalidInput) as caught:
        services.account_create(actor=admin_user, **arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.message
    assert not Account.objects.exists()
    assert not AuditEntry.objects.exists()


def test_create_refuses_unknown_account_fields(admin_user: User) -> None:
    with pytest.raises(InvalidInput, match="crm_external_id"):
        services.account_create(actor=admin_user, name="Acme", crm_external_id="123")


def test_create_with_an_invalid_field_value_leaves_no_account_behind(admin_user: User) -> None:
    make_field("seats", type="number")
    with pytest.raises(InvalidInput, match="Seats must be a number"):
        services.account_create(
            actor=admin_user, name="Acme", primary_domain="acme.com", fields={"seats": "many"}
        )
    assert not Account.objects.exists()
    assert not FieldValue.objects.exists()


def test_create_stores_metadata_in_its_types(admin_user: User, member_user: User) -> None:
    account = services.account_create(
        actor=admin_user,
        name="Acme",
        owner=member_user,
        status="pending_handoff",
        industry=" Retail ",
        employee_count=120,
        arr="125000.50",
        close_date="2024-03-31",
        website="acme.com",
    )
    assert account.owner == member_user
    assert account.status == "pending_handoff"
    assert account.industry == "Retail"
    assert account.arr == Decimal("125000.50")
    assert account.close_date == datetime.date(2024, 3, 31)
    assert account.website == "https://acme.com"


# --- account_update ------------------------------------------------------------------------


def test_admin_renames_an_account_and_the_audit_keeps_before_and_after(admin_user: User) -> None:
    account = make_account("Acme", domain="acme.com")
    services.account_update(actor=admin_user, account=account, name="Acme Inc")
    account.refresh_from_db()
    assert account.name == "Acme Inc"
    [entry] = audit_of(account, "account.update")
    assert entry.actor == admin_user
    assert entry.changes == {"name": {"before": "Acme", "after": "Acme Inc"}}


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Renamed"},
        {"primary_domain": "renamed.com"},
        {"secondary_domains": ["extra.com"]},
        {"name": "Renamed", "status": "churned"},
    ],
)
def test_member_cannot_change_identity_and_nothing_changes(
    member_user: User, changes: dict[str, object]
) -> None:
    account = make_account("Acme", domain="acme.com", status="active")
    with pytest.raises(PermissionDenied, match="Only an admin"):
        services.account_update(actor=member_user, account=account, **changes)
    account.refresh_from_db()
    assert (account.name, account.primary_domain, account.status) == ("Acme", "acme.com", "active")
    assert _secondary(account) == []
    assert audit_of(account, "account.update") == []


def test_member_changes_owner_and_metadata(member_user: User, make_user: Callable) -> None:
    other = make_user("csm@example.test", name="Cleo CSM")
    account = make_account("Acme", domain="acme.com", owner=member_user)
    services.account_update(
        actor=member_user,
        account=account,
        owner=other,
        status="at_risk",
        industry="Fintech",
        employee_count=40,
        arr=Decimal("9000"),
        close_date=datetime.date(2025, 1, 2),
        notes="Renewal in Q1.",
    )
    account.refresh_from_db()
    assert account.owner == other
    assert account.status == "at_risk"
    assert account.arr == Decimal("9000")
    [entry] = audit_of(account, "account.update")
    assert entry.actor == member_user
    assert entry.changes["owner"] == {"before": "Max Member", "after": "Cleo CSM"}
    assert entry.changes["status"] == {"before": "none", "after": "at_risk"}
    assert entry.changes["arr"] == {"before": None, "after": "9000.00"}
    assert entry.changes["close_date"] == {"before": None, "after": "2025-01-02"}


def test_member_clears_the_owner(member_user: User) -> None:
    account = make_account("Acme", owner=member_user)
    services.account_update(actor=member_user, account=account, owner=None)
    account.refresh_from_db()
    assert account.owner is None


def test_an_update_that_changes_nothing_is_not_audited(admin_user: User) -> None:
    account = make_account("Acme", domain="acme.com")
    services.account_update(
        actor=admin_user, account=account, name="Acme", primary_domain="ACME.com"
    )
    assert audit_of(account, "account.update") == []


def test_update_refuses_another_accounts_primary_domain_and_changes_nothing(
    admin_user: User,
) -> None:
    taken = make_account("Globex", domain="globex.com")
    account = make_account("Acme", domain="acme.com")
    with pytest.raises(Conflict) as caught:
        services.account_update(
            actor=admin_user, account=account, name="Acme 2", primary_domain="www.globex.com"
        )
    assert "Globex" in caught.value.message
    assert f"id {taken.pk}" in caught.value.message
    account.refresh_from_db()
    assert (account.name, account.primary_domain) == ("Acme", "acme.com")


def test_promoting_a_secondary_domain_to_primary_removes_it_from_the_secondaries(
    admin_user: User,
) -> None:
    account = make_account("Acme", domain="acme.com", secondary_domains=["acme.io", "acme.dev"])
    services.account_update(actor=admin_user, account=account, primary_domain="acme.io")
    account.refresh_from_db()
    assert account.primary_domain == "acme.io"
    assert _secondary(account) == ["acme.dev"]


def test_secondary_domains_are_replaced_as_a_whole(admin_user: User) -> None:
    account = make_account("Acme", domain="acme.com", secondary_domains=["old.com", "keep.com"])
    services.account_update(
        actor=admin_user, account=account, secondary_domains=["Keep.com", "https://new.com/"]
    )
    assert _secondary(account) == ["keep.com", "new.com"]
    [entry] = audit_of(account, "account.update")
    assert entry.changes["secondary_domains"] == {
        "before": ["keep.com", "old.com"],
        "after": ["keep.com", "new.com"],
    }


def test_changing_domains_updates_what_search_finds(admin_user: User) -> None:
    account = make_account("Acme", domain="acme.com")
    services.account_update(actor=admin_user, account=account, primary_domain="acmecorp.io")
    assert _search("acmecorp.io") == ["Acme"]
    assert _search("acme.com") == []


def test_update_refuses_fields_it_does_not_own(admin_user: User) -> None:
    account = make_account("Acme")
    with pytest.raises(InvalidInput, match="cannot be changed: crm_external_id"):
        services.account_update(actor=admin_user, account=account, crm_external_id="1")


def test_update_with_bad_metadata_changes_nothing(member_user: User) -> None:
    account = make_account("Acme", status="active")
    with pytest.raises(InvalidInput):
        services.account_update(actor=member_user, account=account, status="asleep")
    with pytest.raises(InvalidInput):
        services.account_update(actor=member_user, account=account, industry="x", arr="-1")
    account.refresh_from_db()
    assert (account.status, account.industry, account.arr) == ("active", "", None)


# --- account_delete ------------------------------------------------------------------------


def test_admin_deletes_an_account_and_the_audit_entry_survives(admin_user: User) -> None:
    account = make_account("Acme", domain="acme.com", contacts=2)
    pk = account.pk
    services.account_delete(actor=admin_user, account=account)
    assert not Account.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.get(object_id=str(pk), action="account.delete")
    assert entry.changes["name"] == {"before": "Acme", "after": None}
    assert Contact.objects.count() == 2  # people outlive the account


def test_member_cannot_delete_an_account(member_user: User) -> None:
    account = make_account("Acme")
    with pytest.raises(PermissionDenied):
        services.account_delete(actor=member_user, account=account)
    assert Account.objects.filter(pk=account.pk).exists()


# --- CRM mapping ---------------------------------------------------------------------------


def test_admin_maps_an_account_to_a_crm_company(admin_user: User) -> None:
    account = make_account("Acme")
    services.account_set_crm_mapping(
        actor=admin_user,
        account=account,
        provider="hubspot",
        external_id=" 4242 ",
        company_name="Acme  Corporation",
    )
    account.refresh_from_db()
    assert account.crm_provider == "hubspot"
    assert account.crm_external_id == "4242"
    assert account.crm_company_name == "Acme Corporation"
    assert account.crm_sync_status == CrmSyncStatus.MAPPED  # never "synced" before a sync
    [entry] = audit_of(account, "account.crm_mapping")
    assert entry.changes == {
        "crm": {"before": None, "after": "HubSpot 4242 (Acme Corporation)"},
    }
    assert _search("corporation") == ["Acme"]


def test_admin_unmaps_an_account(admin_user: User) -> None:
    account = make_account("Acme", crm_id="4242")
    services.account_record_crm_sync(account=account, ok=False, error="timeout")
    services.account_set_crm_mapping(actor=admin_user, account=account, provider="", external_id="")
    account.refresh_from_db()
    assert (account.crm_provider, account.crm_external_id, account.crm_company_name) == ("", "", "")
    assert account.crm_sync_status == CrmSyncStatus.NOT_MAPPED
    assert account.crm_sync_error == ""
    assert account.crm_last_synced_at is None
    [entry] = [e for e in audit_of(account, "account.crm_mapping") if e.actor == admin_user]
    assert entry.changes == {"crm": {"before": "HubSpot 4242 (Acme)", "after": None}}


def test_a_crm_company_maps_to_one_account_only(admin_user: User) -> None:
    owner = make_account("Acme", crm_id="4242")
    other = make_account("Globex")
    with pytest.raises(Conflict) as caught:
        services.account_set_crm_mapping(
            actor=admin_user, account=other, provider="hubspot", external_id="4242"
        )
    assert "Acme" in caught.value.message
    assert f"id {owner.pk}" in caught.value.message
    other.refresh_from_db()
    assert other.crm_external_id == ""


def test_the_same_crm_id_may_exist_in_two_crms(admin_user: User) -> None:
    make_account("Acme", crm_id="4242")
    other = make_account("Globex")
    services.account_set_crm_mapping(
        actor=admin_user, account=other, provider="salesforce", external_id="4242"
    )
    other.refresh_from_db()
    assert other.crm_provider == "salesforce"


def test_member_cannot_change_the_crm_mapping(member_user: User) -> None:
    account = make_account("Acme")
    with pytest.raises(PermissionDenied):
        services.account_set_crm_mapping(
            actor=member_user, account=account, provider="hubspot", external_id="1"
        )
    account.refresh_from_db()
    assert account.crm_external_id == ""


@pytest.mark.parametrize(
    ("provider", "external_id", "field"),
    [("pipedrive", "1", "crm_provider"), ("hubspot", "9" * 101, "crm_external_id")],
)
def test_bad_crm_mapping_is_refused(
    admin_user: User, provider: str, external_id: str, field: str
) -> None:
    account = make_account("Acme")
    with pytest.raises(InvalidInput) as caught:
        services.account_set_crm_mapping(
            actor=admin_user, account=account, provider=provider, external_id=external_id
        )
    assert caught.value.field == field


def test_crm_sync_outcome_is_recorded(db: None) -> None:
    account = make_account("Acme", crm_id="4242")
    failed_at = datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC)
    services.account_record_crm_sync(account=account, ok=False, error="HTTP 500", at=failed_at)
    account.refresh_from_db()
    assert account.crm_sync_status == CrmSyncStatus.FAILING
    assert account.crm_sync_error == "HTTP 500"
    assert account.crm_last_synced_at == failed_at
    services.account_record_crm_sync(account=account, ok=True)
    account.refresh_from_db()
    assert account.crm_sync_status == CrmSyncStatus.SYNCED
    assert account.crm_sync_error == ""
    assert account.crm_last_synced_at > failed_at


def test_a_sync_outcome_for_an_unmapped_account_is_ignored(db: None) -> None:
    account = make_account("Acme")
    services.account_record_crm_sync(account=account, ok=False, error="boom")
    account.refresh_from_db()
    assert account.crm_sync_status == CrmSyncStatus.NOT_MAPPED
    assert account.crm_last_synced_at is None


def test_the_admin_role_is_what_grants_identity_edits(make_user: Callable) -> None:
    promoted = make_user("lead@example.test", role=Role.ADMIN)
    account = make_account("Acme")
    services.account_update(actor=promoted, account=account, name="Acme 2")
    promoted.is_active = False
    with pytest.raises(PermissionDenied):
        services.account_update(actor=promoted, account=account, name="Acme 3")


def test_arr_is_kept_in_cents_and_rounding_cannot_overflow_the_column(admin_user: User) -> None:
    account = services.account_create(actor=admin_user, name="Acme", arr="1234.567")
    assert account.arr == Decimal("1234.57")
    with pytest.raises(InvalidInput, match="ARR must be a number from 0 to 999,999,999,999.99"):
        services.account_create(actor=admin_user, name="Globex", arr="999999999999.9999")
    assert Account.objects.count() == 1


def test_a_website_that_only_outgrows_its_column_with_the_scheme_is_refused(
    admin_user: User,
) -> None:
    with pytest.raises(InvalidInput, match="Website is at most 200 characters"):
        services.account_create(actor=admin_user, name="Acme", website="a" * 195 + ".com")
    assert not Account.objects.exists()

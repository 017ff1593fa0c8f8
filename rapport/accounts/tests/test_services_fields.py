"""Extra field services: defining fields and setting their values."""

import datetime
from decimal import Decimal

import pytest

from rapport.accounts import services_fields
from rapport.accounts.models import (
    Account,
    FieldDefinition,
    FieldValue,
)
from rapport.accounts.tests.factories import (
    make_account,
    make_field,
)
from rapport.accounts.tests.kit import audit_of
from rapport.core.errors import Conflict, InvalidInput, PermissionDenied
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def _values(account: Account) -> dict[str, object]:
    return {v.field.key: v.value for v in FieldValue.objects.filter(account=account)}


# --- extra field values --------------------------------------------------------------------


@pytest.fixture
def fields(db: None) -> dict[str, FieldDefinition]:
    return {
        "seats": make_field("seats", type="number"),
        "renewal": make_field("renewal", type="date"),
        "tier": make_field("tier", type="choice", choices=["Gold", "Silver"]),
        "notes": make_field("notes"),
        "plan": make_field("plan", source="crm", crm_property="plan_name"),
    }


def test_admin_sets_field_values_in_their_types(
    admin_user: User, fields: dict[str, FieldDefinition]
) -> None:
    account = make_account("Acme")
    services_fields.account_set_field_values(
        actor=admin_user,
        account=account,
        values={"seats": "1,250", "renewal": "2025-06-30", "tier": "Gold", "notes": " hi "},
    )
    assert _values(account) == {
        "seats": Decimal("1250"),
        "renewal": datetime.date(2025, 6, 30),
        "tier": "Gold",
        "notes": "hi",
    }
    [entry] = audit_of(account, "account.fields")
    assert entry.actor == admin_user
    assert entry.changes["field:seats"] == {"before": None, "after": 1250}
    assert entry.changes["field:renewal"] == {"before": None, "after": "2025-06-30"}


def test_changing_and_clearing_field_values_is_audited(
    admin_user: User, fields: dict[str, FieldDefinition]
) -> None:
    account = make_account("Acme", fields={"seats": 10, "tier": "Gold"})
    services_fields.account_set_field_values(
        actor=admin_user, account=account, values={"seats": "12.5", "tier": ""}
    )
    assert _values(account) == {"seats": Decimal("12.5")}
    [entry] = audit_of(account, "account.fields")
    assert entry.changes == {
        "field:seats": {"before": 10, "after": 12.5},
        "field:tier": {"before": "Gold", "after": None},
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"seats": "many"}, "Seats must be a number."),
        ({"seats": "1e20"}, "Seats is out of range."),
        ({"seats": "NaN"}, "Seats must be a number."),
        ({"renewal": "30/06/2025"}, "Renewal must be a date as YYYY-MM-DD."),
        ({"renewal": "2025-02-30"}, "Renewal must be a date as YYYY-MM-DD."),
        ({"tier": "Platinum"}, "Tier must be one of: Gold, Silver."),
        ({"notes": "x" * 501}, "Notes is at most 500 characters."),
        ({"nope": "1"}, "Unknown fields: nope."),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_and_nothing_is_stored(
    admin_user: User, fields: dict[str, FieldDefinition], values: dict[str, str], message: str
) -> None:
    account = make_account("Acme")
    with pytest.raises(InvalidInput) as caught:
        services_fields.account_set_field_values(
            actor=admin_user, account=account, values={"tier": "Gold", **values}
        )
    assert caught.value.message == message
    assert _values(account) == {}
    assert audit_of(account, "account.fields") == []


def test_people_cannot_edit_crm_fields(
    admin_user: User, fields: dict[str, FieldDefinition]
) -> None:
    account = make_account("Acme")
    with pytest.raises(InvalidInput, match="comes from the CRM"):
        services_fields.account_set_field_values(
            actor=admin_user, account=account, values={"plan": "Enterprise"}
        )
    assert _values(account) == {}


def test_the_crm_sync_writes_crm_fields_and_is_audited_as_such(
    fields: dict[str, FieldDefinition],
) -> None:
    account = make_account("Acme")
    services_fields.account_set_field_values(
        actor=None, account=account, values={"plan": "Enterprise"}
    )
    assert _values(account) == {"plan": "Enterprise"}
    [entry] = audit_of(account, "account.fields")
    assert entry.actor_label == "CRM sync"


def test_members_cannot_set_rapport_fields(
    member_user: User, fields: dict[str, FieldDefinition]
) -> None:
    account = make_account("Acme")
    with pytest.raises(PermissionDenied):
        services_fields.account_set_field_values(
            actor=member_user, account=account, values={"seats": 3}
        )
    assert _values(account) == {}


# --- field definitions ---------------------------------------------------------------------


def test_admin_defines_fields_with_normalized_keys_in_order(admin_user: User) -> None:
    first = services_fields.field_definition_create(
        actor=admin_user, key="Renewal-Date", label="Renewal"
    )
    second = services_fields.field_definition_create(
        actor=admin_user, key="tier", label="  ", type="choice", choices=["Gold", " ", " Silver "]
    )
    assert first.key == "renewal_date"
    assert (second.label, second.choices) == ("tier", ["Gold", "Silver"])
    assert (first.position, second.position) == (0, 1)


def test_members_cannot_define_fields(member_user: User) -> None:
    with pytest.raises(PermissionDenied):
        services_fields.field_definition_create(actor=member_user, key="seats", label="Seats")
    assert not FieldDefinition.objects.exists()


def test_a_field_key_is_unique(admin_user: User) -> None:
    services_fields.field_definition_create(actor=admin_user, key="seats", label="Seats")
    with pytest.raises(Conflict, match="seats already exists"):
        services_fields.field_definition_create(actor=admin_user, key="SEATS", label="Seats again")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"key": "bad key!"}, "key"),
        ({"key": ""}, "key"),
        ({"key": "k" * 65}, "key"),
        ({"type": "money"}, "type"),
        ({"source": "spreadsheet"}, "source"),
        ({"type": "choice", "choices": ["", " "]}, "choices"),
    ],
)
def test_bad_field_definitions_are_refused(
    admin_user: User, kwargs: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"key": "seats", "label": "Seats"} | kwargs
    with pytest.raises(InvalidInput) as caught:
        services_fields.field_definition_create(actor=admin_user, **arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert not FieldDefinition.objects.exists()

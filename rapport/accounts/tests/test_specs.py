"""An account's fields are declared once: the account page, the API and the services take
the same bounds and refuse a bad value with the same message. So do the extra fields,
whose declaration comes from their definition."""

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import CharField, DecimalField, Field
from django.test import Client
from pydantic import BaseModel, ValidationError

from rapport.accounts import specs
from rapport.accounts.forms import (
    AccountCreateForm,
    AccountCrmForm,
    AccountFieldValuesForm,
    AccountMetadataForm,
)
from rapport.accounts.models import Account, FieldValue
from rapport.accounts.schemas import AccountCreateIn, AccountPatchIn, CrmIn, account_in_fields
from rapport.accounts.services import account_create, account_update
from rapport.accounts.services_fields import account_set_field_values
from rapport.accounts.tests.factories import make_account, make_field
from rapport.core.errors import InvalidInput
from rapport.core.spec_schemas import schema_model
from rapport.core.specs import FieldSpec, Kind
from rapport.users.models import User

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/accounts"


def _send(client: Client, method: str, path: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def _form(spec: FieldSpec, value: Any) -> Any:
    """Return the form of the account page that edits *spec*, posted with *value*."""
    if spec is specs.NAME:
        return AccountCreateForm({"name": value, "status": "active"})
    return AccountMetadataForm({"status": "active", spec.name: value})


# --- the declarations and the columns -----------------------------------------------------


@pytest.mark.parametrize("spec", specs.ACCOUNT_SPECS, ids=lambda spec: spec.name)
def test_each_declaration_matches_its_column(spec: FieldSpec) -> None:
    column = Account._meta.get_field(spec.name)
    assert isinstance(column, Field)
    assert spec.required == (not column.blank)
    if isinstance(column, CharField) and spec.kind == Kind.TEXT:
        assert spec.max_length is not None and column.max_length is not None
        assert spec.max_length <= column.max_length
    if column.choices:
        assert list(spec.choices) == [(value, str(label)) for value, label in column.choices]
        assert spec.default == column.get_default()
    if isinstance(column, DecimalField):
        assert spec.places == column.decimal_places
        assert len(Decimal(spec.max).as_tuple().digits) <= column.max_digits  # type: ignore[arg-type]
    if spec.kind == Kind.INT:
        assert spec.min == 0  # a PositiveIntegerField
    if spec.kind == Kind.TEXT:
        assert spec.max_length is not None  # even a TextField has a bound people reach


def test_an_extra_field_is_declared_within_the_value_columns() -> None:
    text = FieldValue._meta.get_field("value_text")
    number = FieldValue._meta.get_field("value_number")
    assert isinstance(text, CharField) and isinstance(number, DecimalField)
    assert text.max_length == specs.FIELD_TEXT_MAX_LENGTH
    assert number.decimal_places == specs.FIELD_NUMBER_PLACES
    assert len(specs.FIELD_NUMBER_MAX.as_tuple().digits) == number.max_digits
    kinds = {
        kind: specs.field_spec(make_field(f"f_{kind}", type=kind, choices=["A", "B"])).kind
        for kind in ("text", "number", "date", "choice")
    }
    assert kinds == {
        "text": Kind.TEXT,
        "number": Kind.DECIMAL,
        "date": Kind.DATE,
        "choice": Kind.CHOICE,
    }


# --- every face refuses the same values ---------------------------------------------------

BAD_VALUES = [
    (specs.NAME, "x" * 201),
    (specs.INDUSTRY, "x" * 101),
    (specs.TIER, "x" * 51),
    (specs.NOTES, "x" * 20_001),
    # Only the https:// the service adds takes it over the column.
    (specs.WEBSITE, "a" * 195 + ".com"),
    (specs.EMPLOYEE_COUNT, -3),
    (specs.EMPLOYEE_COUNT, specs.MAX_EMPLOYEES + 1),
    (specs.ARR, -1),
    (specs.ARR, 10**12),
    (specs.CLOSE_DATE, "2025-13-01"),
]


@pytest.mark.parametrize(
    ("spec", "bad"), BAD_VALUES, ids=lambda value: getattr(value, "name", str(value)[:12])
)
def test_every_face_refuses_a_bad_value_with_the_declared_message(
    spec: FieldSpec, bad: Any, admin_api: Client, admin_user: User
) -> None:
    message = spec.too_long() if spec.kind == Kind.TEXT else spec.message()

    with pytest.raises(InvalidInput) as caught:
        account_create(actor=admin_user, **{"name": "Acme", spec.name: bad})
    assert (caught.value.message, caught.value.field) == (message, spec.name)

    created = _send(admin_api, "post", ACCOUNTS, {"name": "Acme", spec.name: bad})
    assert created.status_code == 422
    assert created.json()["error"].endswith(f"{spec.name}: {message}")
    account = make_account("Globex")
    changed = _send(admin_api, "patch", f"{ACCOUNTS}/{account.pk}", {spec.name: bad})
    assert changed.status_code == 422
    assert changed.json()["error"].endswith(f"{spec.name}: {message}")

    form = _form(spec, str(bad))
    assert not form.is_valid() and form.errors[spec.name] == [message]
    assert list(Account.objects.values_list("name", flat=True)) == ["Globex"]


def test_every_face_refuses_an_unknown_status_with_the_declared_message(
    admin_api: Client, admin_user: User
) -> None:
    message = specs.STATUS.message()
    assert (
        message
        == "Status must be one of: none, pending_handoff, active, at_risk, completed, churned."
    )
    account = make_account("Acme")
    with pytest.raises(InvalidInput) as caught:
        account_update(actor=admin_user, account=account, status="asleep")
    assert (caught.value.message, caught.value.field) == (message, "status")
    # The API leaves the status to the service, which answers 400, as it always has.
    answer = _send(admin_api, "patch", f"{ACCOUNTS}/{account.pk}", {"status": "asleep"})
    assert (answer.status_code, answer.json()) == (400, {"error": message, "field": "status"})
    form = AccountMetadataForm({"status": "asleep"})
    assert not form.is_valid() and form.errors["status"] == [message]


def test_every_face_cleans_a_good_value_alike(admin_api: Client, admin_user: User) -> None:
    body = {"name": "  Acme \n Corp ", "website": "acme.example", "arr": "1234.567"}
    created = _send(admin_api, "post", ACCOUNTS, body).json()
    assert (created["name"], created["website"]) == ("Acme Corp", "https://acme.example")
    assert Decimal(str(created["arr"])) == Decimal("1234.57")
    form = AccountMetadataForm({"status": "active", "website": "acme.example", "arr": "1234.567"})
    assert form.is_valid()
    assert (form.changes()["website"], form.changes()["arr"]) == (
        "https://acme.example",
        Decimal("1234.57"),
    )
    account = account_create(actor=admin_user, name=" Globex  Inc", website="globex.example")
    assert (account.name, account.website) == ("Globex Inc", "https://globex.example")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"seats": "many"}, "Seats must be a number."),
        ({"seats": "1e17"}, "Seats is out of range."),
        ({"renewal": "2025-02-30"}, "Renewal must be a date as YYYY-MM-DD."),
        ({"plan": "Platinum"}, "Plan must be one of: Gold, Silver."),
        ({"notes": "x" * 501}, "Notes is at most 500 characters."),
    ],
)
def test_every_face_refuses_a_bad_extra_field_value_with_one_message(
    values: dict[str, str], message: str, admin_api: Client, admin_user: User
) -> None:
    definitions = [
        make_field("seats", type="number"),
        make_field("renewal", type="date"),
        make_field("plan", type="choice", choices=["Gold", "Silver"]),
        make_field("notes"),
    ]
    (key,) = values
    account = make_account("Acme")
    with pytest.raises(InvalidInput) as caught:
        account_set_field_values(actor=admin_user, account=account, values=values)
    assert (caught.value.message, caught.value.field) == (message, key)

    answer = _send(admin_api, "patch", f"{ACCOUNTS}/{account.pk}", {"fields": values})
    assert (answer.status_code, answer.json()) == (400, {"error": message, "field": key})

    form = AccountFieldValuesForm(definitions, values)
    assert not form.is_valid() and form.errors[key] == [message]
    assert not FieldValue.objects.exists()


def test_a_number_shown_grouped_in_the_form_is_saved_back_unchanged(admin_user: User) -> None:
    seats = make_field("seats", type="number")
    form = AccountFieldValuesForm([seats], values={"seats": Decimal("12500.5")})
    shown = form["seats"].initial
    assert shown == "12,500.5"
    posted = AccountFieldValuesForm([seats], {"seats": shown})
    assert posted.is_valid() and posted.values() == {"seats": Decimal("12500.5")}


# --- the faces derive from the declarations -----------------------------------------------


def test_the_forms_and_the_schemas_show_the_declared_labels_bounds_and_help() -> None:
    form = AccountMetadataForm()
    for spec in specs.METADATA_SPECS:
        assert form.fields[spec.name].label == spec.label
        assert form.fields[spec.name].help_text == spec.help
    assert AccountCreateForm().fields["name"].label == specs.NAME.label
    assert f'maxlength="{specs.TIER.max_length}"' in str(form["tier"])
    assert f'max="{specs.MAX_EMPLOYEES}"' in str(form["employee_count"])
    for schema in (AccountCreateIn, AccountPatchIn):
        properties = schema.model_json_schema()["properties"]
        for spec in specs.ACCOUNT_SPECS:
            shown = properties[spec.name]
            typed = {**shown, **(shown.get("anyOf") or [{}])[0]}
            assert shown.get("description") == (spec.help or None)
            if spec.kind == Kind.TEXT:
                assert typed["maxLength"] == spec.max_length
            if spec.kind in (Kind.INT, Kind.DECIMAL):
                assert Decimal(str(typed["maximum"])) == spec.max
        assert properties["status"]["enum"][:6] == specs.STATUS.choice_values()


def test_a_changed_declaration_changes_the_form_the_schema_and_the_service(
    monkeypatch: pytest.MonkeyPatch, admin_user: User
) -> None:
    tighter = dataclasses.replace(specs.INDUSTRY, label="Sector", max_length=10)
    message = "Sector is at most 10 characters."
    changed = tuple(tighter if s is specs.INDUSTRY else s for s in specs.METADATA_SPECS)
    monkeypatch.setattr(AccountMetadataForm, "declared", changed)
    monkeypatch.setattr(specs, "ACCOUNT_SPECS", (specs.NAME, *changed))
    monkeypatch.setitem(specs.METADATA, "industry", tighter)

    form = AccountMetadataForm({"status": "active", "industry": "Manufacturing"})
    assert form["industry"].label == "Sector" and 'maxlength="10"' in str(form["industry"])
    assert not form.is_valid() and form.errors["industry"] == [message]

    schema = schema_model("ChangedAccountIn", __name__, account_in_fields(), base=BaseModel)
    assert schema.model_json_schema()["properties"]["industry"]["maxLength"] == 10
    with pytest.raises(ValidationError) as caught:
        schema(name="Acme", industry="Manufacturing")
    assert caught.value.errors()[0]["msg"] == message

    with pytest.raises(InvalidInput, match=message):
        account_create(actor=admin_user, name="Acme", industry="Manufacturing")


@pytest.mark.parametrize(
    ("spec", "form_class", "form_name", "schema", "schema_path"),
    [
        (
            specs.PRIMARY_DOMAIN,
            AccountCreateForm,
            "primary_domain",
            AccountCreateIn,
            ["primary_domain"],
        ),
        (specs.CRM_EXTERNAL_ID, AccountCrmForm, "crm_external_id", CrmIn, ["external_id"]),
        (specs.CRM_COMPANY_NAME, AccountCrmForm, "crm_company_name", CrmIn, ["company_name"]),
    ],
)
def test_the_domain_and_crm_bounds_are_the_declarations(
    spec: FieldSpec,
    form_class: Any,
    form_name: str,
    schema: Any,
    schema_path: list[str],
) -> None:
    field = form_class().fields[form_name]
    assert (field.label, field.max_length) == (spec.label, spec.max_length)
    shown = schema.model_json_schema()["properties"][schema_path[0]]
    bounds = [shown.get("maxLength")] + [o.get("maxLength") for o in shown.get("anyOf", [])]
    assert spec.max_length in bounds


def test_the_answer_shows_each_declared_field_with_its_help() -> None:
    from rapport.accounts.schemas import AccountOut

    shown = AccountOut.model_json_schema(mode="serialization")["properties"]
    for spec in specs.ACCOUNT_SPECS:
        if spec is specs.NOTES:
            continue  # the list does not carry notes
        assert spec.name in shown
        assert shown[spec.name].get("description") == (spec.help or None)

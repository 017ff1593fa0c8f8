"""Parse and format values of extra account fields by their type."""

import datetime
from decimal import Decimal
from typing import Any

from rapport.accounts.models import FieldDefinition, FieldType, FieldValue
from rapport.accounts.specs import field_spec
from rapport.core.specs import Kind

VALUE_COLUMN = {
    FieldType.TEXT: "value_text",
    FieldType.CHOICE: "value_text",
    FieldType.NUMBER: "value_number",
    FieldType.DATE: "value_date",
}


def field_parse(field: FieldDefinition, raw: Any) -> str | Decimal | datetime.date | None:
    """Return *raw* as a value of *field*'s type; None or "" clears it.

    The field's declaration (`rapport.accounts.specs.field_spec`) checks the value, so
    the account page, the API and the directory's filters refuse the same ones. A JSON
    number given to a text or choice field is read as its text.
    """
    spec = field_spec(field)
    number = isinstance(raw, int | float | Decimal) and not isinstance(raw, bool)
    if number and spec.kind in (Kind.TEXT, Kind.CHOICE):
        raw = str(raw)
    value = spec.parse(raw)
    return None if value == "" else value


def field_value_apply(value: FieldValue, field: FieldDefinition, parsed: object) -> None:
    """Store *parsed* in the column of *field*'s type, clearing the others."""
    value.value_text = value.value_number = value.value_date = None
    setattr(value, VALUE_COLUMN[FieldType(field.type)], parsed)


def field_format(value: object) -> str:
    """Return a stored value as a person reads it."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        normalized = value.normalize()
        return f"{normalized:,f}" if abs(normalized) >= 1000 else f"{normalized:f}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def field_json(value: object) -> object:
    """Return a stored value for a JSON answer."""
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value

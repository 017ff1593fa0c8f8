"""Parse and format values of extra account fields by their type."""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rapport.accounts.models import FieldDefinition, FieldType, FieldValue
from rapport.core.errors import InvalidInput

VALUE_COLUMN = {
    FieldType.TEXT: "value_text",
    FieldType.CHOICE: "value_text",
    FieldType.NUMBER: "value_number",
    FieldType.DATE: "value_date",
}


def field_parse(field: FieldDefinition, raw: Any) -> str | Decimal | datetime.date | None:
    """Return *raw* as a value of *field*'s type; None or "" clears it."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    label = field.label
    match field.type:
        case FieldType.NUMBER:
            try:
                number = Decimal(str(raw).strip().replace(",", ""))
            except InvalidOperation:
                raise InvalidInput(f"{label} must be a number.", field=field.key) from None
            if not number.is_finite() or abs(number) >= Decimal("1e16"):
                raise InvalidInput(f"{label} is out of range.", field=field.key)
            return number
        case FieldType.DATE:
            if isinstance(raw, datetime.date):
                return raw
            try:
                return datetime.date.fromisoformat(str(raw).strip())
            except ValueError:
                raise InvalidInput(
                    f"{label} must be a date as YYYY-MM-DD.", field=field.key
                ) from None
        case FieldType.CHOICE:
            text = str(raw).strip()
            if text not in field.choices:
                allowed = ", ".join(field.choices) or "none defined"
                raise InvalidInput(f"{label} must be one of: {allowed}.", field=field.key)
            return text
        case _:
            text = str(raw).strip()
            if len(text) > 500:
                raise InvalidInput(f"{label} is longer than 500 characters.", field=field.key)
            return text


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

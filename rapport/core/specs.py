"""Declare a field once: name, label, type, bounds, help.

A `FieldSpec` is the one declaration of a setting or an editable field. Every face
derives from it: the web form field (`rapport.core.spec_forms`), the API schema field
(`rapport.core.spec_schemas`), the Slack modal input (`rapport.core.spec_blocks`), and
the validation the services run (`FieldSpec.validate`). The faces therefore accept the
same values, within the same bounds, and refuse the rest with the same message.
"""

import datetime
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from rapport.core.errors import InvalidInput
from rapport.core.query_params import params_whole


class Kind(enum.StrEnum):
    """What a field holds, which picks its widget, its JSON type and its checks."""

    BOOL = "bool"
    INT = "int"
    DECIMAL = "decimal"
    CHOICE = "choice"
    TEXT = "text"
    WORD = "word"  # one word, such as an emoji name
    CHANNEL = "channel"  # a Slack channel id
    EMAIL = "email"
    DATE = "date"
    TIME = "time"


TEXT_KINDS = frozenset({Kind.TEXT, Kind.WORD, Kind.CHANNEL, Kind.EMAIL})
ON_WORDS = frozenset({"on", "true", "1", "yes"})
OFF_WORDS = frozenset({"off", "false", "0", "no", ""})


@dataclass(frozen=True)
class FieldSpec:
    """One field or setting, declared once; the faces and the services derive from it.

    *required* refuses an empty value; an optional one cleans to "" (text) or None.
    *min* and *max* bound numbers (inclusive), *max_length* text, *places* the decimals
    a number keeps. *refine* takes the value once its kind's checks passed and returns
    it cleaned further, or raises ValueError with the message to show.
    """

    name: str
    label: str
    kind: Kind
    help: str = ""
    required: bool = False
    default: Any = None
    min: int | Decimal | None = None
    max: int | Decimal | None = None
    max_length: int | None = None
    places: int | None = None
    choices: tuple[tuple[str, str], ...] = ()
    refine: Callable[[Any], Any] | None = None

    # --- messages ---------------------------------------------------------------------

    def message(self) -> str:
        """Return what is wrong with a value this field refuses, for every face."""
        label = self.label
        match self.kind:
            case Kind.BOOL:
                return f"{label} is on or off."
            case Kind.INT | Kind.DECIMAL:
                what = "a whole number" if self.kind == Kind.INT else "a number"
                if self.min is not None and self.max is not None:
                    return f"{label} must be {what} from {self.min:,} to {self.max:,}."
                if self.min is not None:
                    return f"{label} must be {what}, {self.min:,} or more."
                return f"{label} must be {what}."
            case Kind.CHOICE:
                return f"{label} must be one of: {', '.join(self.choice_values())}."
            case Kind.WORD | Kind.CHANNEL:
                return f"{label} is one word of at most {self.max_length} characters."
            case Kind.EMAIL:
                return f"{label} is not an email address."
            case Kind.DATE:
                return f"{label} must be a date as YYYY-MM-DD."
            case Kind.TIME:
                return f"{label} must be a time such as 09:00."
        return f"{label} must be text of at most {self.max_length:,} characters."

    def too_long(self) -> str:
        """Return the refusal of text longer than *max_length*."""
        if self.kind == Kind.TEXT:
            return f"{self.label} is at most {self.max_length:,} characters."
        return self.message()

    def invalid(self, message: str | None = None) -> InvalidInput:
        return InvalidInput(message or self.message(), field=self.name)

    def choice_values(self) -> list[str]:
        return [value for value, _ in self.choices]

    # --- validation -------------------------------------------------------------------

    def empty(self) -> Any:
        """Return what an optional field holds when left empty."""
        return "" if self.kind in TEXT_KINDS else None

    def validate(self, value: Any, *, nullable: bool = False) -> Any:
        """Return *value* cleaned, or raise InvalidInput naming this field.

        Values come typed as JSON types them (the API and the services); text typed
        into a form or a modal goes through `parse` first. With *nullable* (a channel's
        override) None means "inherit" and is always accepted.
        """
        if value is None or (isinstance(value, str) and not value.strip()):
            if nullable:
                return None
            if self.required or (value is None and self.kind == Kind.BOOL):
                # Text says it needs one; a number or a choice says what it takes.
                raise self.invalid(
                    f"{self.label} needs a value." if self.kind == Kind.TEXT else None
                )
            return self.empty()
        cleaned = self._check(value)
        if self.refine is not None:
            try:
                cleaned = self.refine(cleaned)
            except ValueError as exc:
                raise self.invalid(str(exc)) from None
        return cleaned

    def _check(self, value: Any) -> Any:
        match self.kind:
            case Kind.BOOL:
                if not isinstance(value, bool):
                    raise self.invalid()
                return value
            case Kind.INT:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise self.invalid()
                return self._bounded(value)
            case Kind.DECIMAL:
                return self._decimal(value)
            case Kind.CHOICE:
                if not isinstance(value, str) or value not in self.choice_values():
                    raise self.invalid()
                return value
            case Kind.DATE:
                return self._date(value)
            case Kind.TIME:
                return self._time(value)
        return self._text(value)

    def _bounded(self, value: Any) -> Any:
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            raise self.invalid()
        return value

    def _decimal(self, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise self.invalid()
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.invalid() from None
        if not number.is_finite():
            raise self.invalid()
        if self.places is not None:
            # Rounding happens before the bounds: it can carry a value over the limit.
            try:
                number = number.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_UP)
            except InvalidOperation:  # more digits than a Decimal holds: beyond any bound
                raise self.invalid() from None
        return self._bounded(number)

    def _date(self, value: Any) -> datetime.date:
        if isinstance(value, datetime.datetime):
            raise self.invalid()
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value).strip())
        except ValueError:
            raise self.invalid() from None

    def _time(self, value: Any) -> datetime.time:
        if isinstance(value, datetime.time):
            return value.replace(tzinfo=None)
        if not isinstance(value, str):
            raise self.invalid()
        try:
            parsed = datetime.time.fromisoformat(value.strip())
        except ValueError:
            raise self.invalid() from None
        if parsed.tzinfo is not None:
            # A time of day is local to a zone declared elsewhere; an offset would make
            # it one that naive times cannot be compared with.
            raise self.invalid()
        return parsed

    def _text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self.invalid(f"{self.label} must be text.")
        text = value.strip()
        if self.kind == Kind.WORD:
            text = text.strip(":")
        if self.kind in (Kind.WORD, Kind.CHANNEL) and any(c.isspace() for c in text):
            raise self.invalid()
        if self.max_length is not None and len(text) > self.max_length:
            raise self.invalid(self.too_long())
        if self.kind == Kind.EMAIL:
            try:
                validate_email(text)
            except ValidationError:
                raise self.invalid() from None
        return text

    def parse(self, raw: Any, *, nullable: bool = False) -> Any:
        """Return text typed into a form or a modal as a clean value, or raise InvalidInput.

        A form gives a checkbox as a bool and a disabled field its typed initial value:
        values that already have their type go straight to `validate`.
        """
        if self.kind == Kind.BOOL and not isinstance(raw, bool):
            word = "" if raw is None else str(raw).strip().lower()
            if nullable and not word:
                return None
            if word not in ON_WORDS | OFF_WORDS:
                raise self.invalid()
            raw = word in ON_WORDS
        elif self.kind == Kind.INT and isinstance(raw, str) and raw.strip():
            text = raw.strip()
            number = params_whole(text.removeprefix("-"))
            if number is None:
                raise self.invalid()
            raw = -number if text.startswith("-") else number
        elif self.kind == Kind.DECIMAL and isinstance(raw, str):
            raw = raw.replace(",", "")  # a person groups thousands with commas
        return self.validate(raw, nullable=nullable)

    def show(self, value: Any) -> str:
        """Return a value as a person reads it in a form, a modal or a table."""
        if value is None:
            return ""
        if self.kind == Kind.BOOL:
            return "On" if value else "Off"
        if self.kind == Kind.CHOICE:
            return dict(self.choices).get(value, str(value))
        if isinstance(value, datetime.time):
            return value.isoformat(timespec="minutes")
        if isinstance(value, datetime.date):
            return value.isoformat()
        return str(value)


def specs_by_name(specs: Iterable[FieldSpec]) -> dict[str, FieldSpec]:
    """Return *specs* by name, refusing two declarations of one name."""
    found: dict[str, FieldSpec] = {}
    for spec in specs:
        if spec.name in found:
            raise ValueError(f"{spec.name} is declared twice.")
        found[spec.name] = spec
    return found


def specs_validate(
    specs: dict[str, FieldSpec],
    values: dict[str, Any],
    *,
    nullable: bool = False,
    noun: str = "fields",
) -> dict[str, Any]:
    """Validate the *values* of the named fields; refuse a name *specs* do not declare."""
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise InvalidInput(f"Unknown {noun}: {', '.join(unknown)}.")
    return {name: specs[name].validate(value, nullable=nullable) for name, value in values.items()}

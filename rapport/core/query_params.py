"""Read filter values from a query string or a JSON-like mapping, the same way everywhere."""

import datetime
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.http import QueryDict

from rapport.core.errors import InvalidInput

MAX_IDS = 50


class ParamSource(Protocol):
    def getlist(self, key: str) -> list[str]: ...
    def keys(self) -> Any: ...


def params_getter(params: ParamSource | Mapping[str, Any]) -> Callable[[str], list[str]]:
    """Return `get(key)`: every value given for *key*, as strings; NUL bytes are refused."""

    def get(key: str) -> list[str]:
        if hasattr(params, "getlist"):
            values = [str(v) for v in params.getlist(key)]
        else:
            value = params.get(key)
            if value is None:
                values = []
            elif isinstance(value, list | tuple):
                values = [str(v) for v in value]
            else:
                values = [str(value)]
        if any("\x00" in v for v in values):
            raise InvalidInput(f"{key} contains a NUL character.", field=key)
        return values

    return get


def params_whole(raw: str, *, digits: int = 18) -> int | None:
    """Return *raw* as a whole number from 0 if it is at most *digits* ASCII digits, else None.

    `str.isdigit()` is no test for `int()`: it accepts superscripts such as "²", which
    `int()` refuses, and `int()` alone accepts signs, spaces, underscores and other
    scripts' digits. Parse every number a person or a client typed through this.
    """
    if 0 < len(raw) <= digits and raw.isascii() and raw.isdecimal():
        return int(raw)
    return None


def params_ids(values: list[str], name: str, *, most: int = MAX_IDS) -> list[int]:
    """Parse *values* as ids, without repeats; refuse anything else, or more than *most*."""
    ids: list[int] = []
    for raw in (v.strip() for v in values if v.strip()):
        number = params_whole(raw)
        if number is None:
            raise InvalidInput(f"{name} must be an id, not {raw!r}.", field=name)
        if number not in ids:
            ids.append(number)
    if len(ids) > most:
        raise InvalidInput(f"Filter by at most {most} values of {name}.", field=name)
    return ids


def params_words(values: list[str], name: str) -> str:
    """Join *values* into one search of at most 200 characters, spaces collapsed."""
    return " ".join(" ".join(values).split())[:200]


def params_texts(values: list[str], name: str) -> list[str]:
    """Return the non-blank *values*, stripped."""
    return [v.strip() for v in values if v.strip()]


def params_choices(allowed: Sequence[str]) -> Callable[[list[str], str], list[str]]:
    """Return a parser that keeps the non-blank values, refusing any not in *allowed*."""

    def parse(values: list[str], name: str) -> list[str]:
        cleaned = params_texts(values, name)
        for value in cleaned:
            if value not in allowed:
                raise InvalidInput(
                    f"{name} must be one of {', '.join(allowed)}, not {value!r}.", field=name
                )
        return cleaned

    return parse


def params_yes_no(values: list[str], name: str) -> bool | None:
    """Parse the last value as yes or no (true/false, 1/0); None when blank."""
    if not values or not values[-1].strip():
        return None
    value = values[-1].strip().lower()
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    raise InvalidInput(f"{name} must be yes or no.", field=name)


def params_decimal(values: list[str], name: str) -> Decimal | None:
    """Parse the last value as a finite number; None when blank."""
    if not values or not values[-1].strip():
        return None
    try:
        number = Decimal(values[-1].strip())
    except InvalidOperation:
        raise InvalidInput(f"{name} must be a number.", field=name) from None
    if not number.is_finite():
        raise InvalidInput(f"{name} must be a finite number.", field=name)
    return number


def params_count(values: list[str], name: str) -> int | None:
    """Parse the last value as a whole number from 0 of at most nine digits; None when blank."""
    if not values or not values[-1].strip():
        return None
    number = params_whole(values[-1].strip(), digits=9)
    if number is None:
        raise InvalidInput(f"{name} must be a whole number from 0.", field=name)
    return number


def params_date(values: list[str], name: str) -> datetime.date | None:
    """Parse the last value as a date (YYYY-MM-DD); None when blank."""
    if not values or not values[-1].strip():
        return None
    try:
        return datetime.date.fromisoformat(values[-1].strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a date such as 2026-01-31.", field=name) from None


def params_clean(params: QueryDict) -> QueryDict:
    """Drop blank values, so an empty filter control means "any"."""
    cleaned = QueryDict(mutable=True)
    for key, values in params.lists():
        kept = [v for v in values if v.strip()]
        if kept:
            cleaned.setlist(key, kept)
    return cleaned

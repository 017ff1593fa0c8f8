"""Read filter values from a query string or a JSON-like mapping, the same way everywhere."""

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.http import QueryDict

from rapport.core.errors import InvalidInput

MAX_IDS = 50


class ParamSource(Protocol):
    def getlist(self, key: str) -> list[str]: ...


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


def params_clean(params: QueryDict) -> QueryDict:
    """Drop blank values, so an empty filter control means "any"."""
    cleaned = QueryDict(mutable=True)
    for key, values in params.lists():
        kept = [v for v in values if v.strip()]
        if kept:
            cleaned.setlist(key, kept)
    return cleaned

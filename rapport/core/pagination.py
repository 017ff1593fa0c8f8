"""Pages of rows: by offset for numbered pages, by keyset for the columns that scroll."""

import base64
import binascii
import datetime
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from rapport.core.errors import InvalidInput
from rapport.core.query_params import params_whole

# Past this page a number is a typo or a probe; refusing it keeps offsets small.
PAGE_NUMBER_MAX = 1_000_000


@dataclass
class Page:
    """One page of rows with the total, for a pager or an API list."""

    items: list[Any]
    count: int
    limit: int
    offset: int = 0

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.count

    @property
    def page_number(self) -> int:
        return self.offset // self.limit + 1

    @property
    def page_count(self) -> int:
        return max(1, -(-self.count // self.limit))

    @property
    def first_row(self) -> int:
        return self.offset + 1

    @property
    def last_row(self) -> int:
        return self.offset + len(self.items)


def page_number_parse(params: QueryDict) -> int:
    """Return the page number that *params* ask for (1 without one); raise InvalidInput."""
    raw = params.get("page", "1").strip()
    number = params_whole(raw)
    if number is None or not 1 <= number <= PAGE_NUMBER_MAX:
        raise InvalidInput(f"page must be a whole number from 1, not {raw!r}.", field="page")
    return number


def keyset_cursor_encode(at: datetime.datetime, pk: int) -> str:
    """Return the opaque position after the row (*at*, *pk*) in (time, id) order."""
    raw = f"{at.isoformat()}|{pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def keyset_cursor_decode(cursor: str, *, field: str = "after") -> tuple[datetime.datetime, int]:
    """Return the (time, id) a cursor names; raise InvalidInput naming *field* for a bad one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        when, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        at = datetime.datetime.fromisoformat(when)
        number = params_whole(pk)
        if at.tzinfo is None or number is None:
            raise ValueError(cursor)
        return at, number
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidInput(f"{field} is not a position in this list.", field=field) from None

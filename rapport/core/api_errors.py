"""The JSON API's error answers and ids, as every router declares them.

An endpoint lists the errors its services answer in its `response`
(`{200: AccountOut, **error_responses(400, 404)}`); every error answer is an `ErrorOut`.
"""

from typing import Annotated

from ninja import Field, Schema

# The largest id the API takes: below every integer column's range (SQLite and
# PostgreSQL bigint are 64-bit), so an id from a client never overflows a query.
ID_MAX = 2**62

RowId = Annotated[int, Field(ge=1, le=ID_MAX)]


class ErrorOut(Schema):
    """An error answer. A service's error may name the input it is about in `field`; a
    422 lists each invalid input, with where it is (`loc`), in `details`."""

    error: str


def error_responses(*codes: int) -> dict[int, type[ErrorOut]]:
    """Return `{code: ErrorOut}` for each of *codes*, for a ninja operation's `response`."""
    return dict.fromkeys(codes, ErrorOut)

"""Page numbers and keyset cursors: a bad one is refused, never a server error."""

import base64
import datetime
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from rapport.core.errors import InvalidInput
from rapport.core.pagination import keyset_cursor_decode, keyset_cursor_encode, page_number_parse


def test_a_page_number_is_read_from_the_query() -> None:
    assert page_number_parse(QueryDict("")) == 1
    assert page_number_parse(QueryDict("page=3")) == 3


@pytest.mark.parametrize("raw", ["²", "0", "-1", "three", "1000001"])
def test_a_bad_page_number_is_refused_naming_page(raw: str) -> None:
    with pytest.raises(InvalidInput, match="page must be a whole number") as caught:
        page_number_parse(QueryDict(urlencode({"page": raw})))
    assert caught.value.field == "page"


def test_a_cursor_round_trips_and_a_superscript_id_in_one_is_refused() -> None:
    at = datetime.datetime(2026, 1, 31, 12, 0, tzinfo=datetime.UTC)
    assert keyset_cursor_decode(keyset_cursor_encode(at, 42)) == (at, 42)
    forged = base64.urlsafe_b64encode(f"{at.isoformat()}|²".encode()).decode().rstrip("=")
    with pytest.raises(InvalidInput, match="not a position"):
        keyset_cursor_decode(forged)

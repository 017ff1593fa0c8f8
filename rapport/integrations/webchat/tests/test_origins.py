"""Allowed origins are stored as browsers write `Origin`."""

import pytest

from rapport.core.errors import InvalidInput
from rapport.integrations.webchat.origins import origin_normalize, origins_normalize


@pytest.mark.parametrize(
    ("pasted", "stored"),
    [
        ("https://www.acme-shop.example", "https://www.acme-shop.example"),
        (" HTTPS://WWW.Acme-Shop.Example/ ", "https://www.acme-shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://shop.example:80", "http://shop.example"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("https://shop.example:8443", "https://shop.example:8443"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_an_origin_is_stored_as_the_browser_sends_it(pasted: str, stored: str) -> None:
    assert origin_normalize(pasted) == stored


@pytest.mark.parametrize(
    "pasted",
    [
        "*",
        "shop.example",
        "https://*.shop.example",
        "https://shop.example/app",
        "https://shop.example/?q=1",
        "https://user@shop.example",
        "ftp://shop.example",
        "https://shop.example:99999",
        "https://",
        "null",
    ],
)
def test_anything_but_a_bare_http_origin_is_refused(pasted: str) -> None:
    with pytest.raises(InvalidInput):
        origin_normalize(pasted)


def test_a_list_drops_blanks_and_duplicates_and_keeps_the_order() -> None:
    assert origins_normalize(
        ["https://b.example", "", "https://a.example", "https://B.example/"]
    ) == ["https://b.example", "https://a.example"]

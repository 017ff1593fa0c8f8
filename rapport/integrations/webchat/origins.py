"""Origins as browsers send them, so an allow-list compares with a plain string match."""

import ipaddress
from urllib.parse import urlsplit

import idna

from rapport.core.errors import InvalidInput

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_normalize(value: str) -> str:
    """Return *value* as a browser writes it in `Origin`: `scheme://host[:port]`.

    Accept what people paste (`https://Shop.Example/`, a trailing slash, the default
    port) and refuse anything that is not a bare http(s) origin: a path, a query, a
    wildcard or user info would make the allow-list mean something else than it says.
    """
    text = value.strip()
    if text.endswith("/") and text.count("/") == 3:
        text = text[:-1]
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"{value.strip()!r} is not a valid origin.", field="origins") from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if (
        scheme not in _DEFAULT_PORTS
        or not host
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
        or "*" in host
    ):
        raise InvalidInput(
            f"{value.strip()!r} is not an origin: write the scheme and host only, such as "
            "https://www.acme-shop.example (add :port when it is not the default).",
            field="origins",
        )
    if not _is_ip(host):
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise InvalidInput(
                f"{value.strip()!r} does not have a valid host name.", field="origins"
            ) from exc
    if ":" in host:  # an IPv6 address, bracketed in URLs
        host = f"[{host}]"
    origin = f"{scheme}://{host}"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        origin += f":{port}"
    return origin


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def origins_normalize(values: list[str]) -> list[str]:
    """Normalize each origin of an allow-list; drop blanks and duplicates, keep the order."""
    seen: dict[str, None] = {}
    for value in values:
        if value.strip():
            seen[origin_normalize(value)] = None
    return list(seen)

"""Normalize domain names the one way Rapport stores and compares them, and vet primary domains.

An app that knows why a domain cannot identify a company (the mapping app knows the
public mail domains) registers a check with `primary_domain_check_register` from its
AppConfig.ready(); the account services ask `primary_domain_refusal` before a domain
becomes an account's primary domain. The accounts app so needs no import of that app.
"""

import re
from collections.abc import Callable

import idna

from rapport.core.errors import InvalidInput

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def domain_normalize(value: str) -> str:
    """Return *value* as a stored domain: lower case, IDNA A-labels, no `www.`, no trailing dot.

    Accept what people paste: `https://www.Acme.com/pricing`, `acme.com.`, `bücher.de`.
    Raise InvalidInput for anything that is not a registrable host name.
    """
    raw = value
    text = value.strip()
    text = _SCHEME.sub("", text)
    # The host ends at the path, query or fragment; an @ after that (an email address in
    # a query string) is not the user-info separator.
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    if "@" in text:  # an email address or user@host
        text = text.rsplit("@", 1)[1]
    text = re.sub(r":\d*$", "", text)  # port
    text = text.rstrip(".").lower()
    if not text:
        raise InvalidInput("Enter a domain, such as acme.com.", field="domain")
    try:
        # IDNA maps full-width and ideographic full stops to ".", so strip again after.
        text = idna.encode(text, uts46=True).decode("ascii").rstrip(".")
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidInput(f"{raw.strip()!r} is not a valid domain name.", field="domain") from exc
    while text.startswith("www."):
        text = text[4:]
    labels = text.split(".")
    if (
        len(text) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidInput(
            f"{raw.strip()!r} is not a valid domain name (expected something like acme.com).",
            field="domain",
        )
    return text


def domain_display(domain: str) -> str:
    """Return a stored domain in Unicode for people to read."""
    if "xn--" not in domain:
        return domain  # plain ASCII: nothing to decode (the common case, and on hot pages)
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError):
        return domain


# Each returns why a (normalized) domain cannot be a primary domain, or None.
PrimaryDomainCheck = Callable[[str], str | None]
_primary_domain_checks: list[PrimaryDomainCheck] = []


def primary_domain_check_register(check: PrimaryDomainCheck) -> None:
    """Have *check* vet every domain that is about to become an account's primary domain."""
    if check not in _primary_domain_checks:
        _primary_domain_checks.append(check)


def primary_domain_refusal(domain: str) -> str | None:
    """Return why *domain* (normalized) cannot be a primary domain, or None when it can."""
    for check in _primary_domain_checks:
        if (reason := check(domain)) is not None:
            return reason
    return None

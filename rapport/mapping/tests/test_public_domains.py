"""Public mail domains never identify a company; subdomains of them neither."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.mapping.public_domains import domain_is_public, domain_suffixes, public_domains_base


@pytest.mark.parametrize(
    "domain",
    ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "mailinator.com", "proton.me"],
)
def test_free_and_disposable_mail_providers_are_public(domain: str) -> None:
    assert domain_is_public(domain)


@pytest.mark.parametrize("domain", ["acmecorp.com", "globex.co.uk", "example.org", "com.example"])
def test_company_domains_are_not_public(domain: str) -> None:
    assert not domain_is_public(domain)


@pytest.mark.parametrize("domain", ["mail.yahoo.com", "eu.mail.gmail.com", "x.mailinator.com"])
def test_a_subdomain_of_a_public_domain_is_public(domain: str) -> None:
    assert domain_is_public(domain)


def test_a_top_level_domain_alone_is_never_looked_up() -> None:
    # "com" is not a mail provider, and a parent with one label is not a domain.
    assert domain_suffixes("eu.mail.example.com") == [
        "eu.mail.example.com",
        "mail.example.com",
        "example.com",
    ]
    assert domain_suffixes("example.com") == ["example.com"]


def test_the_packaged_list_is_large_and_normalized() -> None:
    base = public_domains_base()
    assert len(base) > 10_000
    assert all(d == d.strip().lower() and d for d in base)
    assert public_domains_base() is base  # read once per process


def test_a_domain_an_admin_adds_is_public_with_its_subdomains() -> None:
    added = ["freemail.example"]
    assert domain_is_public("freemail.example", added=added)
    assert domain_is_public("eu.freemail.example", added=added)
    assert not domain_is_public("freemail.example")


def test_a_domain_an_admin_removes_wins_over_the_packaged_list() -> None:
    assert domain_is_public("mail.com")
    assert not domain_is_public("mail.com", removed=["mail.com"])
    # Its subdomains follow it, unless an admin lists one of them as public.
    assert not domain_is_public("eu.mail.com", removed=["mail.com"])
    assert domain_is_public("eu.mail.com", added=["eu.mail.com"], removed=["mail.com"])


def test_removing_a_subdomain_keeps_the_parent_public() -> None:
    assert domain_is_public("gmail.com", removed=["corp.gmail.com"])
    assert not domain_is_public("corp.gmail.com", removed=["corp.gmail.com"])


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@given(
    labels=st.lists(_LABEL, min_size=1, max_size=3),
    public=st.sampled_from(["gmail.com", "yahoo.com", "mailinator.com"]),
)
def test_any_subdomain_of_a_listed_domain_is_public(labels: list[str], public: str) -> None:
    assert domain_is_public(".".join([*labels, public]))

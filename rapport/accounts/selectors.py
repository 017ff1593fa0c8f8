"""Reads of accounts: the account page, the API, and the rows the directory shows.

Every function here issues a fixed number of queries, whatever the page size.
"""

from collections.abc import Iterable, Mapping
from itertools import batched
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Lower

from rapport.accounts.models import (
    Account,
    AccountDomain,
    Contact,
    FieldDefinition,
    FieldValue,
)
from rapport.inbox.models import Channel
from rapport.users.models import User

CONTACTS_SHOWN = 3


def field_definitions() -> list[FieldDefinition]:
    """Return every extra account field, CRM ones first."""
    return list(FieldDefinition.objects.all())


def account_queryset(
    *,
    field_keys: list[str] | None = None,
    contacts_limit: int | None = CONTACTS_SHOWN,
    secondary_domains: bool = True,
    definitions: Mapping[str, FieldDefinition] | None = None,
    request_metrics: bool = True,
) -> QuerySet[Account]:
    """Return accounts with what a list row shows already fetched.

    `field_keys` limits the prefetched extra field values (None: all of them);
    `contacts_limit` fetches only the first few contacts of each account. With
    *definitions*, field values come without their field: the caller then points each
    value at the shared definition (`field_definitions_attach`) instead of the join
    building one copy of a definition per value.
    """
    contacts = Contact.objects.order_by("name", "email")
    values = FieldValue.objects.all()
    if definitions is None:
        values = values.select_related("field")
        if field_keys is not None:
            values = values.filter(field__key__in=field_keys)
    elif field_keys is not None:
        values = values.filter(
            field_id__in=[definitions[k].pk for k in field_keys if k in definitions]
        )
    prefetches: list[Any] = [
        Prefetch(
            "contacts",
            queryset=contacts[:contacts_limit] if contacts_limit else contacts,
            to_attr="contacts_shown",
        ),
        Prefetch("channels", queryset=Channel.objects.order_by("name"), to_attr="channels_shown"),
        Prefetch("field_values", queryset=values, to_attr="field_values_shown"),
    ]
    if secondary_domains:
        prefetches.append(
            Prefetch(
                "domains",
                queryset=AccountDomain.objects.order_by("domain"),
                to_attr="secondary_domains_shown",
            )
        )
    # The request figures come in the same query, by a join on the account's id.
    related = ("owner", "request_metrics") if request_metrics else ("owner",)
    return Account.objects.select_related(*related).prefetch_related(*prefetches)


def field_definitions_attach(
    accounts: list[Account], definitions: Mapping[str, FieldDefinition]
) -> None:
    """Point every prefetched field value of *accounts* at its shared definition.

    A page of 50 accounts with 10 fields would otherwise build 500 copies of 10
    definitions, decoding the JSON choices of each: a quarter of the time it takes to
    build a page of rows.
    """
    by_id = {definition.pk: definition for definition in definitions.values()}
    for account in accounts:
        for value in getattr(account, "field_values_shown", ()):
            definition = by_id.get(value.field_id)
            if definition is not None:
                value.field = definition


def account_detail(account_id: int) -> Account:
    """Return one account with all of its contacts, channels, domains and field values."""
    return account_queryset(contacts_limit=None).get(pk=account_id)


def account_get(account_id: int) -> Account:
    """Return one account without its related rows, or raise NotFound."""
    from rapport.core.errors import NotFound

    account = Account.objects.select_related("owner").filter(pk=account_id).first()
    if account is None:
        raise NotFound(f"No account with id {account_id}.")
    return account


def accounts_by_ids(ids: list[int]) -> list[Account]:
    """Return the accounts with the given ids, by name (unknown ids are left out).

    For the chips of a filter or a picker: the name is all they show.
    """
    if not ids:
        return []
    return list(Account.objects.filter(pk__in=ids).only("id", "name").order_by(Lower("name"), "id"))


def account_with_primary_domain(value: str) -> Account | None:
    """Return the account whose primary domain is *value* once normalized, if any."""
    from rapport.accounts.domains import domain_normalize
    from rapport.core.errors import InvalidInput

    try:
        domain = domain_normalize(value)
    except InvalidInput:
        return None
    return Account.objects.filter(primary_domain=domain).first()


DOMAIN_LOOKUP_CHUNK = 500  # values per IN (...), well under SQLite's limit on parameters


def account_ids_for_domains(domains: Iterable[str]) -> dict[str, int]:
    """Return the account each (normalized) domain finds, by id.

    The account with it as primary domain, else the first (by id) with it as a secondary
    domain: the account a new customer of that domain is onboarded into.
    """
    wanted = sorted(set(domains))
    found: dict[str, int] = {}
    for chunk in batched(wanted, DOMAIN_LOOKUP_CHUNK):
        for domain, account_id in (
            Account.objects.filter(primary_domain__in=chunk)
            .order_by()
            .values_list("primary_domain", "id")
        ):
            if domain:
                found[domain] = account_id
    secondary = [domain for domain in wanted if domain not in found]
    for chunk in batched(secondary, DOMAIN_LOOKUP_CHUNK):
        pairs = (
            AccountDomain.objects.filter(domain__in=chunk)
            .order_by("account_id")
            .values_list("domain", "account_id")
        )
        for domain, account_id in pairs:
            found.setdefault(domain, account_id)
    return found


def account_owner_choices() -> QuerySet[User]:
    """Return the members an account can be assigned to, by name."""
    return User.objects.filter(is_active=True).order_by("name", "email")

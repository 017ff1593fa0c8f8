"""Reads for the account directory, the account page and the accounts API.

Every function here issues a fixed number of queries, whatever the page size.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from rapport.accounts.columns import Column, directory_columns_for
from rapport.accounts.filters import AccountFilterSet
from rapport.accounts.models import (
    Account,
    AccountDomain,
    Contact,
    CrmSyncStatus,
    FieldDefinition,
    FieldValue,
)
from rapport.inbox.models import Channel
from rapport.users.models import User

CONTACTS_SHOWN = 3


@dataclass
class DirectoryTotals:
    """The directory header: how many accounts, how many mapped to the CRM, how many failing."""

    total: int
    crm_mapped: int
    crm_failing: int


@dataclass
class AccountPage:
    accounts: list[Account]
    count: int
    limit: int
    offset: int

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.count

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def page_number(self) -> int:
        return self.offset // self.limit + 1

    @property
    def page_count(self) -> int:
        return max(1, -(-self.count // self.limit))


def field_definitions() -> list[FieldDefinition]:
    """Return every extra account field, CRM ones first."""
    return list(FieldDefinition.objects.all())


def directory_totals() -> DirectoryTotals:
    """Count all accounts, those mapped to the CRM and those whose sync fails, in one query."""
    row = Account.objects.aggregate(
        total=Count("id"),
        crm_mapped=Count("id", filter=~Q(crm_sync_status=CrmSyncStatus.NOT_MAPPED)),
        crm_failing=Count("id", filter=Q(crm_sync_status=CrmSyncStatus.FAILING)),
    )
    return DirectoryTotals(**row)


def account_queryset(
    *,
    field_keys: list[str] | None = None,
    contacts_limit: int | None = CONTACTS_SHOWN,
    secondary_domains: bool = True,
) -> QuerySet[Account]:
    """Return accounts with what a list row shows already fetched.

    `field_keys` limits the prefetched extra field values (None: all of them);
    `contacts_limit` fetches only the first few contacts of each account.
    """
    contacts = Contact.objects.order_by("name", "email")
    values = FieldValue.objects.select_related("field")
    if field_keys is not None:
        values = values.filter(field__key__in=field_keys)
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
    return Account.objects.select_related("owner").prefetch_related(*prefetches)


def account_page(
    filters: AccountFilterSet,
    *,
    limit: int,
    offset: int,
    field_keys: list[str] | None = None,
    secondary_domains: bool = True,
) -> AccountPage:
    """Return one page of accounts that match *filters*, in their order, with the total."""
    matching = filters.filter(Account.objects.all())
    count = matching.count()
    rows = filters.order(
        filters.filter(
            account_queryset(field_keys=field_keys, secondary_domains=secondary_domains)
        )
    )[offset : offset + limit]
    return AccountPage(accounts=list(rows), count=count, limit=limit, offset=offset)


@dataclass
class Directory:
    """Everything the directory page renders."""

    page: AccountPage
    totals: DirectoryTotals
    columns: list[Column]
    fields: list[FieldDefinition]
    filters: AccountFilterSet
    owners: list[User]
    industries: list[str]


def directory_for(
    user: User, filters: AccountFilterSet, fields: list[FieldDefinition], *, limit: int, offset: int
) -> Directory:
    """Return the directory page for *user*: their columns, the page, totals and filter options."""
    columns = directory_columns_for(user, fields)
    field_keys = [c.field.key for c in columns if c.field is not None]
    page = account_page(
        filters,
        limit=limit,
        offset=offset,
        field_keys=field_keys,
        secondary_domains=any(c.key == "secondary_domains" for c in columns),
    )
    return Directory(
        page=page,
        totals=directory_totals(),
        columns=columns,
        fields=fields,
        filters=filters,
        owners=list(User.objects.filter(is_active=True).order_by("name", "email")),
        industries=account_industries(),
    )


def account_industries() -> list[str]:
    """Return the industries in use, for the filter's options."""
    return list(
        Account.objects.exclude(industry="")
        .order_by("industry")
        .values_list("industry", flat=True)
        .distinct()
    )


def account_detail(account_id: int) -> Account:
    """Return one account with all of its contacts, channels, domains and field values."""
    return account_queryset(contacts_limit=None).get(pk=account_id)

"""Reads for the account directory, the account page and the accounts API.

Every function here issues a fixed number of queries, whatever the page size.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Prefetch, QuerySet

from rapport.accounts.columns import REQUEST_COLUMNS, Column, directory_columns_for
from rapport.accounts.filters import METRIC_SORTS, AccountFilterSet
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
# The industries in use, in order: from each one, seek the next larger in the index.
INDUSTRIES_SQL = """
WITH RECURSIVE used (industry) AS (
    SELECT MIN(industry) FROM accounts_account WHERE industry > %s
    UNION ALL
    SELECT (SELECT MIN(industry) FROM accounts_account WHERE industry > used.industry)
    FROM used WHERE used.industry IS NOT NULL
)
SELECT industry FROM used WHERE industry IS NOT NULL ORDER BY industry
"""


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
    """Count all accounts, those mapped to the CRM and those whose sync fails.

    Three counts rather than one pass with conditional counts: a bare count and two
    ranges of the CRM status index are cheap, while the conditional counts read an index
    entry per account (6 ms at 100,000 accounts on SQLite, on every directory page).
    """
    total = Account.objects.count()
    not_mapped = Account.objects.filter(crm_sync_status=CrmSyncStatus.NOT_MAPPED).count()
    failing = Account.objects.filter(crm_sync_status=CrmSyncStatus.FAILING).count()
    return DirectoryTotals(total=total, crm_mapped=total - not_mapped, crm_failing=failing)


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
    return _account_queryset(
        field_keys=field_keys,
        contacts_limit=contacts_limit,
        secondary_domains=secondary_domains,
        definitions=None,
    )


def _account_queryset(
    *,
    field_keys: list[str] | None,
    contacts_limit: int | None,
    secondary_domains: bool,
    definitions: Mapping[str, FieldDefinition] | None,
    request_metrics: bool = True,
) -> QuerySet[Account]:
    """Build `account_queryset`; with *definitions*, field values come without their field.

    The caller then points each value at the shared definition (`_field_definitions_attach`)
    instead of the join building one copy of a definition per value.
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


def _field_definitions_attach(
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


def account_page(
    filters: AccountFilterSet,
    *,
    limit: int,
    offset: int,
    field_keys: list[str] | None = None,
    secondary_domains: bool = True,
    request_metrics: bool = True,
) -> AccountPage:
    """Return one page of accounts that match *filters*, in their order, with the total.

    `request_metrics=False` leaves out the join to the request figures (a page that
    shows none of them).
    """
    matching = filters.filter(Account.objects.all())
    count = matching.count()
    # The filter set already holds every field definition; reuse them for the page's values.
    definitions = filters.fields_by_key or None
    queryset = _account_queryset(
        field_keys=field_keys,
        contacts_limit=CONTACTS_SHOWN,
        secondary_domains=secondary_domains,
        definitions=definitions,
        request_metrics=request_metrics,
    )
    if filters.sort in METRIC_SORTS:
        accounts = _page_by_request_figure(filters, queryset, count, limit=limit, offset=offset)
    else:
        accounts = list(filters.order(filters.filter(queryset))[offset : offset + limit])
    if definitions:
        _field_definitions_attach(accounts, definitions)
    return AccountPage(accounts=accounts, count=count, limit=limit, offset=offset)


def _page_by_request_figure(
    filters: AccountFilterSet,
    queryset: QuerySet[Account],
    count: int,
    *,
    limit: int,
    offset: int,
) -> list[Account]:
    """Return a page sorted by a request figure: the ids first, then the rows by id.

    The accounts with a metrics row come in the figure's order from an inner join, so
    the database reads the figure's index and stops after one page (an outer join
    sorts every account). Accounts without a row yet (a new account, until the next
    refresh) follow, by id, as NULLS LAST puts them; fetching them costs two more
    queries, on the pages that reach them only.
    """
    with_row = filters.filter(Account.objects.filter(request_metrics__isnull=False))
    ids = list(filters.order(with_row).values_list("pk", flat=True)[offset : offset + limit])
    if len(ids) < limit and offset + len(ids) < count:
        with_rows = with_row.count()
        tie = "-id" if filters.descending else "id"
        without = filters.filter(Account.objects.filter(request_metrics__isnull=True))
        start = max(0, offset - with_rows)
        ids += list(
            without.order_by(tie).values_list("pk", flat=True)[start : start + limit - len(ids)]
        )
    by_id = {account.pk: account for account in queryset.filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


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
        request_metrics=any(c.key in REQUEST_COLUMNS for c in columns),
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
    """Return the industries in use, for the filter's options.

    The query walks the industry index from one value to the next, one seek per distinct
    industry (a loose index scan). DISTINCT would read an index entry per account instead:
    PostgreSQL cannot skip through an index, nor SQLite without statistics, and this
    runs on every directory page.
    """
    with connections[Account.objects.db].cursor() as cursor:
        cursor.execute(INDUSTRIES_SQL, [""])
        return [row[0] for row in cursor.fetchall()]


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


def account_with_primary_domain(value: str) -> Account | None:
    """Return the account whose primary domain is *value* once normalized, if any."""
    from rapport.accounts.domains import domain_normalize
    from rapport.core.errors import InvalidInput

    try:
        domain = domain_normalize(value)
    except InvalidInput:
        return None
    return Account.objects.filter(primary_domain=domain).first()


def account_owner_choices() -> QuerySet[User]:
    """Return the members an account can be assigned to, by name."""
    return User.objects.filter(is_active=True).order_by("name", "email")

"""Reads of the account directory and of the accounts API's list.

Every function here issues a fixed number of queries, whatever the page size.
"""

from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet

from rapport.accounts.models import Account, CrmSyncStatus, FieldDefinition
from rapport.accounts.selectors import (
    CONTACTS_SHOWN,
    account_owner_choices,
    account_queryset,
    field_definitions_attach,
)
from rapport.core.pagination import Page
from rapport.directory.columns import REQUEST_COLUMNS, Column, directory_columns_for
from rapport.directory.filters import METRIC_SORTS, AccountFilterSet
from rapport.users.models import User

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


def account_page(
    filters: AccountFilterSet,
    *,
    limit: int,
    offset: int,
    field_keys: list[str] | None = None,
    secondary_domains: bool = True,
    request_metrics: bool = True,
) -> Page:
    """Return one page of accounts that match *filters*, in their order, with the total.

    `request_metrics=False` leaves out the join to the request figures (a page that
    shows none of them).
    """
    matching = filters.filter(Account.objects.all())
    count = matching.count()
    # The filter set already holds every field definition; reuse them for the page's values.
    definitions = filters.fields_by_key or None
    queryset = account_queryset(
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
        field_definitions_attach(accounts, definitions)
    return Page(items=accounts, count=count, limit=limit, offset=offset)


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

    page: Page
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
        owners=list(account_owner_choices()),
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

"""Reads of the account directory and of the accounts API's list.

Every function here issues a fixed number of queries, whatever the page size.

The directory page reads plain rows (`DirectoryRow`): the columns its cells show, as
`values()` and a few lean queries for the related rows, instead of model instances
with their relations prefetched. Building a page of 50 accounts with their contacts,
channels and owners as model instances cost more CPU than rendering it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet

from rapport.accounts.models import (
    Account,
    CrmSyncStatus,
    FieldDefinition,
    FieldValue,
)
from rapport.accounts.selectors import (
    CONTACTS_SHOWN,
    account_queryset,
    field_definitions_attach,
)
from rapport.core.pagination import Page
from rapport.directory.columns import Column, directory_columns_for
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
# The members an account can be assigned to, by name (`account_owner_choices`).
OWNERS_SQL = "SELECT id, name, email FROM users_user WHERE is_active ORDER BY name, email"
# The header totals: a bare count and two ranges of the CRM status index, in one statement.
TOTALS_SQL = """
SELECT
    (SELECT COUNT(*) FROM accounts_account),
    (SELECT COUNT(*) FROM accounts_account WHERE crm_sync_status = %s),
    (SELECT COUNT(*) FROM accounts_account WHERE crm_sync_status = %s)
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
    They travel as scalar subqueries of one statement, each planned on its own.
    """
    with connections[Account.objects.db].cursor() as cursor:
        cursor.execute(TOTALS_SQL, [CrmSyncStatus.NOT_MAPPED.value, CrmSyncStatus.FAILING.value])
        total, not_mapped, failing = cursor.fetchone()
    return DirectoryTotals(total=total, crm_mapped=total - not_mapped, crm_failing=failing)


def account_page(filters: AccountFilterSet, *, limit: int, offset: int) -> Page:
    """Return one page of accounts that match *filters*, in their order, with the total."""
    matching = filters.filter(Account.objects.all())
    count = matching.count()
    # The filter set already holds every field definition; reuse them for the page's values.
    definitions = filters.fields_by_key or None
    queryset = account_queryset(contacts_limit=CONTACTS_SHOWN, definitions=definitions)
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
    """Return a page sorted by a request figure: the ids first, then the rows by id."""
    ids = _page_ids_by_request_figure(filters, count, limit=limit, offset=offset)
    by_id = {account.pk: account for account in queryset.filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


def _page_ids_by_request_figure(
    filters: AccountFilterSet, count: int, *, limit: int, offset: int
) -> list[int]:
    """Return the ids of a page sorted by a request figure, in order.

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
    return ids


# A directory row: the account's id and name, then what the shown columns read, under the
# names `values()` gives them ("owner__name", "request_metrics__open_count"), plus the
# related rows ("contacts", "channels", "domains") and each extra field's value under its
# column key ("field.tier").
DirectoryRow = dict[str, Any]

# The account columns each directory column reads, besides the id and the name.
ROW_VALUES: dict[str, tuple[str, ...]] = {
    "name": ("logo",),
    "contacts": ("contact_count",),
    "primary_domain": ("primary_domain",),
    "owner": ("owner__name", "owner__email"),
    "crm_company": ("crm_company_name",),
    "crm_id": ("crm_external_id",),
    "crm_status": ("crm_sync_status", "crm_last_synced_at", "crm_sync_error"),
    "status": ("status",),
    "source": ("source",),
    "industry": ("industry",),
    "employee_count": ("employee_count",),
    "arr": ("arr",),
    "close_date": ("close_date",),
    "created": ("created_at",),
    "crm_last_synced": ("crm_last_synced_at",),
    "tier": ("tier",),
    # The request figures; the metrics row's key tells an account without one yet.
    "requests_open": ("request_metrics__pk", "request_metrics__open_count"),
    "requests_total": ("request_metrics__pk", "request_metrics__total_count"),
    "requests_last": ("request_metrics__pk", "request_metrics__last_request_at"),
    "requests_first_response": (
        "request_metrics__pk",
        "request_metrics__avg_first_response_seconds",
    ),
    "requests_resolution": ("request_metrics__pk", "request_metrics__avg_resolution_seconds"),
    "requests_csat": (
        "request_metrics__pk",
        "request_metrics__avg_csat",
        "request_metrics__csat_count",
    ),
    "sla_breaches": (
        "request_metrics__pk",
        "request_metrics__breach_count",
        "request_metrics__first_response_breaches",
        "request_metrics__resolution_breaches",
    ),
}


def _row_values(columns: Iterable[Column]) -> list[str]:
    names = {"id": None, "name": None}
    for column in columns:
        names.update(dict.fromkeys(ROW_VALUES.get(column.key, ())))
    return list(names)


# The related rows of a page of accounts, in the order their cells list them; "{ids}"
# stands for the page's account ids. Plain SQL: building these from the ORM cost more CPU
# than running them.
CONTACTS_SQL = """
SELECT account_id, name, email FROM (
    SELECT ac.account_id, c.name, c.email, ROW_NUMBER() OVER (
        PARTITION BY ac.account_id ORDER BY c.name, c.email
    ) AS n
    FROM accounts_accountcontact ac
    JOIN accounts_contact c ON c.id = ac.contact_id
    WHERE ac.account_id IN ({ids})
) shown
WHERE n <= %s
ORDER BY account_id, n
"""
# Every contact of the page's accounts: when they have few in all, reading them and
# keeping the first ones costs the database half what ranking them does.
CONTACTS_ALL_SQL = """
SELECT ac.account_id, c.name, c.email
FROM accounts_accountcontact ac
JOIN accounts_contact c ON c.id = ac.contact_id
WHERE ac.account_id IN ({ids})
ORDER BY ac.account_id, c.name, c.email
"""
CONTACTS_READ_ALL = 500
CHANNELS_SQL = """
SELECT ca.account_id, ch.name, ch.slack_channel_id
FROM inbox_channelaccount ca
JOIN inbox_channel ch ON ch.id = ca.channel_id
WHERE ca.account_id IN ({ids})
ORDER BY ch.name, ch.id
"""
DOMAINS_SQL = """
SELECT account_id, domain FROM accounts_accountdomain
WHERE account_id IN ({ids})
ORDER BY domain
"""


def _related_rows(sql: str, ids: list[int], *params: int) -> list[tuple[Any, ...]]:
    with connections[Account.objects.db].cursor() as cursor:
        cursor.execute(sql.format(ids=", ".join(["%s"] * len(ids))), [*ids, *params])
        return cursor.fetchall()


def directory_rows_attach(rows: list[DirectoryRow], columns: list[Column]) -> None:
    """Add to *rows* the related rows their *columns* show, one query per kind at most.

    Contacts come as the first `CONTACTS_SHOWN` (name, email) pairs by name; channels as
    (name, Slack id) pairs by name; secondary domains by domain; each extra field's
    value (number, date or text, whichever is set) under its column key.
    """
    if not rows:
        return
    by_id = {row["id"]: row for row in rows}
    ids = list(by_id)
    keys = {column.key for column in columns}
    if "contacts" in keys:
        for row in rows:
            row["contacts"] = []
        if sum(row["contact_count"] for row in rows) <= CONTACTS_READ_ALL:
            contacts = _related_rows(CONTACTS_ALL_SQL, ids)
        else:
            contacts = _related_rows(CONTACTS_SQL, ids, CONTACTS_SHOWN)
        for account_id, name, email in contacts:
            shown = by_id[account_id]["contacts"]
            if len(shown) < CONTACTS_SHOWN:
                shown.append((name, email))
    if "slack_channel" in keys:
        for row in rows:
            row["channels"] = []
        for account_id, name, slack_id in _related_rows(CHANNELS_SQL, ids):
            by_id[account_id]["channels"].append((name, slack_id))
    if "secondary_domains" in keys:
        for row in rows:
            row["domains"] = []
        for account_id, domain in _related_rows(DOMAINS_SQL, ids):
            by_id[account_id]["domains"].append(domain)
    field_keys = {c.field.pk: c.key for c in columns if c.field is not None}
    if field_keys:
        # Through the ORM, which converts the numbers and dates the database returns.
        values = FieldValue.objects.filter(account_id__in=ids, field_id__in=field_keys)
        for account_id, field_id, text, number, date in values.values_list(
            "account_id", "field_id", "value_text", "value_number", "value_date"
        ):
            # FieldValue.value, without building the model.
            value = number if number is not None else date if date is not None else text
            by_id[account_id][field_keys[field_id]] = value


def directory_page(
    filters: AccountFilterSet,
    columns: list[Column],
    *,
    limit: int,
    offset: int,
    count: int | None = None,
) -> Page:
    """Return one page of directory rows that match *filters*, in their order, with the total.

    *count* is the number of matching accounts when the caller knows it already (the
    header's total, when nothing is filtered).
    """
    if count is None:
        count = filters.filter(Account.objects.all()).count()
    names = _row_values(columns)
    if filters.sort in METRIC_SORTS:
        ids = _page_ids_by_request_figure(filters, count, limit=limit, offset=offset)
        page_rows = Account.objects.filter(pk__in=ids).values(*names)
        by_id = {row["id"]: row for row in page_rows}
        rows = [by_id[pk] for pk in ids if pk in by_id]
    else:
        accounts = filters.order(filters.filter(Account.objects.all()))
        rows = list(accounts.values(*names)[offset : offset + limit])
    directory_rows_attach(rows, columns)
    return Page(items=rows, count=count, limit=limit, offset=offset)


def directory_row_get(pk: int, columns: list[Column]) -> DirectoryRow | None:
    """Return the directory row of account *pk* with what *columns* show, or None."""
    row = Account.objects.filter(pk=pk).values(*_row_values(columns)).first()
    if row is not None:
        directory_rows_attach([row], columns)
    return row


def directory_owner_choices() -> list[tuple[str, str]]:
    """Return the owner filter's options: (user id, display name) of each assignable member.

    `account_owner_choices` in plain SQL, as its ORM form cost ten times as much CPU as
    the query itself (a test keeps the two alike).
    """
    with connections[User.objects.db].cursor() as cursor:
        cursor.execute(OWNERS_SQL)
        # name or email: User.display_name
        return [(str(pk), name or email) for pk, name, email in cursor.fetchall()]


@dataclass
class Directory:
    """Everything the directory page renders."""

    page: Page
    totals: DirectoryTotals
    columns: list[Column]
    fields: list[FieldDefinition]
    filters: AccountFilterSet
    owners: list[tuple[str, str]]  # (user id, display name)
    industries: list[str]


def directory_for(
    user: User, filters: AccountFilterSet, fields: list[FieldDefinition], *, limit: int, offset: int
) -> Directory:
    """Return the directory page for *user*: their columns, the page, totals and filter options.

    Without a filter the page's count is the header's total, counted once.
    """
    columns = directory_columns_for(user, fields)
    totals = directory_totals()
    page = directory_page(
        filters,
        columns,
        limit=limit,
        offset=offset,
        count=None if filters.is_filtered else totals.total,
    )
    return Directory(
        page=page,
        totals=totals,
        columns=columns,
        fields=fields,
        filters=filters,
        owners=directory_owner_choices(),
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

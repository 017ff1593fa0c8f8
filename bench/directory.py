"""Benchmark the account directory: the web page and the API list, each against bare SQL.

The main request, for both faces, carries a search term, three filters (owner, CRM sync
status and the `tier` choice field) and a sort. The baseline is hand-written SQL, run
through a plain cursor, that fetches the same page: the authenticated user, the count,
the page's rows in the same order, and the related rows the page shows (owner, first
contacts, channels, field values, secondary domains), plus, for the web page, the
header totals and the filter options. It is checked to return the same accounts, in
the same order, as the API.
"""

import hashlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.database import progress
from bench.seed import BENCH_ADMIN_EMAIL
from rapport.accounts.models import FieldDefinition
from rapport.accounts.selectors import CONTACTS_SHOWN
from rapport.directory import views
from rapport.directory.models import DirectoryPreference
from rapport.directory.selectors import INDUSTRIES_SQL
from rapport.users.models import User
from rapport.users.services import api_token_create

PAGE_URL = "/accounts/"
API_URL = "/api/v1/accounts"
SEARCH = "son"  # what a person has typed after three letters of "Johnson" or "Wilson"
CRM_STATUS = "synced"
TIER = "Mid-Market"
BY_NAME = "LOWER(a.name), a.id"


@dataclass
class Result:
    """One line of `make bench` output."""

    name: str
    value: float
    unit: str
    baseline: float
    n: int

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 2),
            "unit": self.unit,
            "baseline": round(self.baseline, 2),
            "ratio": round(self.value / self.baseline, 2) if self.baseline else None,
            "n": self.n,
        }


def compare_ms(
    run: Callable[[], object], baseline: Callable[[], object], *, runs: int, warmup: int
) -> tuple[float, float]:
    """Return the median wall times of *run* and *baseline* in milliseconds.

    The two alternate, after *warmup* unmeasured rounds, so a busy machine slows both
    alike and the ratio stays meaningful.
    """
    for _ in range(warmup):
        run()
        baseline()
    run_times: list[float] = []
    baseline_times: list[float] = []
    for _ in range(runs):
        for target, times in ((run, run_times), (baseline, baseline_times)):
            start = time.perf_counter()
            target()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(run_times), statistics.median(baseline_times)


def statement_count(run: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


# --- the bare-SQL baseline ------------------------------------------------------------------


@dataclass
class DirectoryRequest:
    """One directory request: its query parameters and the SQL spelling of its filters."""

    params: dict[str, Any]
    where: str  # conditions on accounts `a`, "" for none
    where_params: list[Any]
    order_by: str


class DirectorySql:
    """Fetch what one directory page or API page shows with hand-written SQL."""

    def __init__(self, *, admin_id: int, limit: int) -> None:
        self.admin_id = admin_id
        self.limit = limit

    def _all(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def session_user(self, session_key: str) -> None:
        self._all(
            "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s",
            [session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        self._all("SELECT * FROM users_user WHERE id = %s", [self.admin_id])

    def token_user(self, token: str) -> None:
        self._all(
            "SELECT t.id, t.expires_at, t.last_used_at, u.* FROM users_apitoken t"
            " JOIN users_user u ON u.id = t.user_id"
            " WHERE t.digest = %s AND t.revoked_at IS NULL AND u.is_active",
            [hashlib.sha256(token.encode()).hexdigest()],
        )

    def page(
        self, request: DirectoryRequest, *, field_keys: list[str] | None, secondary_domains: bool
    ) -> list[int]:
        """Run the queries of one page; return the ids of its accounts, in order."""
        where = f" WHERE {request.where}" if request.where else ""
        self._all("SELECT * FROM accounts_fielddefinition ORDER BY source, position, label")
        self._all(f"SELECT COUNT(*) FROM accounts_account a{where}", request.where_params)
        rows = self._all(
            "SELECT a.*, u.id, u.email, u.name FROM accounts_account a"
            f" LEFT JOIN users_user u ON u.id = a.owner_id{where}"
            f" ORDER BY {request.order_by} LIMIT %s",
            [*request.where_params, self.limit],
        )
        ids = [row[0] for row in rows]
        if not ids:
            return ids
        marks = ", ".join(["%s"] * len(ids))
        self._all(
            "SELECT * FROM (SELECT ac.account_id, c.id, c.email, c.name, c.kind, ROW_NUMBER()"
            " OVER (PARTITION BY ac.account_id ORDER BY c.name, c.email) AS n"
            " FROM accounts_accountcontact ac JOIN accounts_contact c ON c.id = ac.contact_id"
            f" WHERE ac.account_id IN ({marks})) shown WHERE n <= %s",
            [*ids, CONTACTS_SHOWN],
        )
        self._all(
            "SELECT ca.account_id, ch.id, ch.name, ch.slack_channel_id FROM inbox_channelaccount ca"
            f" JOIN inbox_channel ch ON ch.id = ca.channel_id WHERE ca.account_id IN ({marks})"
            " ORDER BY ch.name",
            ids,
        )
        if field_keys is None or field_keys:
            keys = field_keys or []
            only = f" AND f.key IN ({', '.join(['%s'] * len(keys))})" if keys else ""
            self._all(
                "SELECT fv.account_id, f.key, fv.value_text, fv.value_number, fv.value_date"
                " FROM accounts_fieldvalue fv JOIN accounts_fielddefinition f ON f.id = fv.field_id"
                f" WHERE fv.account_id IN ({marks}){only}",
                [*ids, *keys],
            )
        if secondary_domains:
            self._all(
                "SELECT account_id, domain FROM accounts_accountdomain"
                f" WHERE account_id IN ({marks}) ORDER BY domain",
                ids,
            )
        return ids

    def directory_extras(self) -> None:
        """Run the web page's other reads: column preference, header totals, filter options."""
        self._all(
            "SELECT columns FROM accounts_directorypreference WHERE user_id = %s", [self.admin_id]
        )
        self._all("SELECT COUNT(*) FROM accounts_account")
        for status in ("not_mapped", "failing"):
            self._all("SELECT COUNT(*) FROM accounts_account WHERE crm_sync_status = %s", [status])
        self._all("SELECT id, email, name FROM users_user WHERE is_active ORDER BY name, email")
        self._all(INDUSTRIES_SQL, [""])


# --- the benchmark ----------------------------------------------------------------------------


def directory_requests(owner_id: int, tier_field_id: int) -> dict[str, DirectoryRequest]:
    """Return the benchmarked requests by name."""
    # The same plan shape as the filter set: on SQLite `a.id + 0` keeps the planner from
    # probing the owner index once per account of the tier (see filters._with_ids).
    account_id = "a.id + 0" if connection.vendor == "sqlite" else "a.id"
    return {
        "filtered": DirectoryRequest(
            params={
                "q": SEARCH,
                "owner": str(owner_id),
                "crm_status": CRM_STATUS,
                "field.tier": TIER,
                "sort": "-arr",
            },
            where=(
                "a.search_text LIKE %s AND a.owner_id = %s AND a.crm_sync_status = %s"
                f" AND {account_id} IN (SELECT fv.account_id FROM accounts_fieldvalue fv"
                " WHERE fv.field_id = %s AND fv.value_text = %s)"
            ),
            where_params=[f"%{SEARCH}%", owner_id, CRM_STATUS, tier_field_id, TIER],
            order_by="a.arr DESC NULLS LAST, a.id DESC",
        ),
        "unfiltered": DirectoryRequest(params={}, where="", where_params=[], order_by=BY_NAME),
        "search": DirectoryRequest(
            params={"q": SEARCH},
            where="a.search_text LIKE %s",
            where_params=[f"%{SEARCH}%"],
            order_by=BY_NAME,
        ),
    }


def _get(client: Client, url: str, params: dict[str, Any]) -> Any:
    response = client.get(url, params)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:500]!r}")
    return response


def bench_directory(*, runs: int, warmup: int) -> list[Result]:
    """Measure the directory page and the accounts API against their bare-SQL baseline."""
    admin = User.objects.get(email=BENCH_ADMIN_EMAIL)
    owner = User.objects.exclude(pk=admin.pk).order_by("id")[2]
    requests = directory_requests(owner.pk, FieldDefinition.objects.get(key="tier").pk)
    page_size: int = views.PAGE_SIZE
    sql = DirectorySql(admin_id=admin.pk, limit=page_size)

    page_client = Client()
    page_client.force_login(admin)
    session_key = page_client.cookies[settings.SESSION_COOKIE_NAME].value
    _, token = api_token_create(user=admin, name="make bench")
    api_client = Client(headers={"Authorization": f"Bearer {token}"})

    preference = DirectoryPreference.objects.filter(user=admin).values_list("columns", flat=True)
    columns: list[str] = next(iter(preference), [])
    page_field_keys = [c.removeprefix("field.") for c in columns if c.startswith("field.")]

    def page(request: DirectoryRequest) -> Callable[[], object]:
        return lambda: _get(page_client, PAGE_URL, request.params)

    def page_baseline(request: DirectoryRequest) -> Callable[[], object]:
        def run() -> None:
            sql.session_user(session_key)
            sql.page(
                request,
                field_keys=page_field_keys,
                secondary_domains="secondary_domains" in columns,
            )
            sql.directory_extras()

        return run

    def api(request: DirectoryRequest, limit: int = page_size) -> Callable[[], object]:
        return lambda: _get(api_client, API_URL, {**request.params, "limit": limit})

    def api_baseline(request: DirectoryRequest) -> Callable[[], list[int]]:
        def run() -> list[int]:
            sql.token_user(token)
            return sql.page(request, field_keys=None, secondary_domains=True)

        return run

    # The baseline must return the page the API (and the web page, through the same
    # selector) returns, or the comparison means nothing.
    for name, request in requests.items():
        body = _get(api_client, API_URL, {**request.params, "limit": page_size}).json()
        if [item["id"] for item in body["items"]] != api_baseline(request)():
            raise RuntimeError(f"The bare-SQL baseline does not return the {name} page.")
        progress(f"bench: the {name} request matches {body['count']:,} accounts")

    cases = (
        ("directory_page_ms", page, page_baseline, "filtered"),
        ("accounts_api_list_ms", api, api_baseline, "filtered"),
        ("directory_page_unfiltered_ms", page, page_baseline, "unfiltered"),
        ("accounts_api_search_only_ms", api, api_baseline, "search"),
    )
    results: list[Result] = []
    for name, face, baseline, request_name in cases:
        progress(f"bench: {name}")
        request = requests[request_name]
        value, base = compare_ms(face(request), baseline(request), runs=runs, warmup=warmup)
        results.append(Result(name, value, "ms", base, runs))

    # Queries per page, for 10 rows and for 100: the same. The baseline is the number of
    # statements the hand-written version needs. The request without a search term
    # matches well over 100 accounts, so both pages are full.
    listing = requests["unfiltered"]
    page_statements = statement_count(page_baseline(listing))
    api_statements = statement_count(api_baseline(listing))
    for size in (10, 100):
        views.PAGE_SIZE = size
        try:
            count = statement_count(page(listing))
        finally:
            views.PAGE_SIZE = page_size
        results.append(
            Result(f"directory_page_queries_{size}_rows", count, "queries", page_statements, 1)
        )
    for size in (10, 100):
        count = statement_count(api(listing, size))
        results.append(
            Result(f"accounts_api_list_queries_{size}_rows", count, "queries", api_statements, 1)
        )
    return results

"""Benchmark the request figures: the full refresh, the account page's read, the sorted directory.

Each figure runs against hand-written SQL doing the same work on the same data:

- `request_metrics_refresh_full_ms`: `account_request_metrics_refresh()` over every
  account (grouping, ranking of requesters and sources, upsert of one row per account)
  against the bare GROUP BY that computes the counts, averages and breaches of every
  account (no ranking, nothing written);
- `account_request_metrics_read_ms`: the account page's figures and latest ten requests
  (`metrics.selectors.account_requests`) for the account with the most requests, against
  a bare per-account aggregate plus the latest ten rows;
- `directory_sorted_open_requests_ms`: `GET /accounts/?sort=-requests_open` (the web page,
  logged in, with the request columns shown) against hand-written SQL for the same page
  reading the same precomputed table;
- `directory_sorted_open_live_aggregate_ms`: what that sort would cost without the
  precomputed table (bare SQL ordering accounts by a live GROUP BY over the requests),
  against the bare page on the precomputed table;
- `directory_sorted_open_queries`: statements of the sorted page against the baseline's.

The requests come from the benchmark database when it holds `BENCH_REQUESTS` (default
100,000) already; otherwise the request board benchmark's seed runs (when it has not),
then requests are inserted in bulk up to that count, spread over the directory's
accounts with a long tail (a few accounts with thousands of requests, most with none):
see `bench.request_metrics_seed`.
Run it alone with `python -m bench.request_metrics`.
"""

import json
import os
import re
import sys
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.database import progress
from bench.request_metrics_seed import requests_seed

# The models load after django.setup(): `python -m bench.request_metrics` runs this module
# before Django is configured, so the project's imports live in the functions.

DEFAULT_REQUESTS = 100_000
PAGE_SIZE = 50
# The columns the sorted page shows: the defaults plus the request figures.
COLUMNS = [
    "name",
    "contacts",
    "primary_domain",
    "slack_channel",
    "owner",
    "crm_status",
    "requests_open",
    "requests_total",
    "requests_last",
    "requests_first_response",
    "requests_csat",
    "sla_breaches",
]


def line(name: str, value: float, unit: str, baseline: float, n: int) -> dict[str, Any]:
    return {
        "name": name,
        "value": round(value, 2),
        "unit": unit,
        "baseline": round(baseline, 2),
        "ratio": round(value / baseline, 2) if baseline else None,
        "n": n,
    }


def _all(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- the bare-SQL baselines -------------------------------------------------------------------


def _seconds(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def aggregate_sql(where: str = "account_id IS NOT NULL") -> str:
    """The bare aggregate: counts, averages and breaches per account, nothing ranked."""
    return (
        "SELECT account_id, COUNT(*),"
        " SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN status = 'closed' THEN 1 ELSE 0 END),"
        " MAX(created_at),"
        f" AVG({_seconds('first_response_at', 'created_at')}),"
        f" AVG({_seconds('closed_at', 'created_at')}),"
        " AVG(csat_score * 1.0), COUNT(csat_score),"
        " SUM(CASE WHEN first_response_at > first_response_due_at OR (first_response_at IS NULL"
        " AND first_response_due_at < %s) THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN closed_at > resolution_due_at OR (closed_at IS NULL"
        " AND resolution_due_at < %s) THEN 1 ELSE 0 END)"
        f" FROM requests_request WHERE {where} GROUP BY account_id"
    )


def _now_db() -> Any:
    return connection.ops.adapt_datetimefield_value(timezone.now())


def refresh_baseline() -> None:
    now = _now_db()
    _all(aggregate_sql(), [now, now])


def account_read_baseline(account_id: int) -> None:
    now = _now_db()
    _all(aggregate_sql("account_id = %s"), [now, now, account_id])
    _all(
        "SELECT r.*, c.id, c.email, c.name, u.id, u.email, u.name FROM requests_request r"
        " LEFT JOIN accounts_contact c ON c.id = r.requester_id"
        " LEFT JOIN users_user u ON u.id = r.assignee_id"
        " WHERE r.account_id = %s ORDER BY r.created_at DESC, r.id DESC LIMIT 10",
        [account_id],
    )


def directory_page_baseline(session_key: str, admin_id: int, *, live: bool = False) -> list[int]:
    """Fetch the sorted directory page with hand-written SQL; return its account ids.

    With *live*, the order comes from a GROUP BY over the requests instead of the
    precomputed table (what the page would cost without it).
    """
    from rapport.accounts.selectors import CONTACTS_SHOWN
    from rapport.directory.selectors import INDUSTRIES_SQL

    _all(
        "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s",
        [session_key, _now_db()],
    )
    _all("SELECT * FROM users_user WHERE id = %s", [admin_id])
    _all("SELECT columns FROM accounts_directorypreference WHERE user_id = %s", [admin_id])
    _all("SELECT * FROM accounts_fielddefinition ORDER BY source, position, label")
    _all("SELECT COUNT(*) FROM accounts_account")
    if live:
        rows = _all(
            "SELECT a.*, u.id, u.email, u.name, o.n FROM accounts_account a"
            " JOIN (SELECT account_id, COUNT(*) AS n FROM requests_request"
            " WHERE status = 'open' GROUP BY account_id) o ON o.account_id = a.id"
            " LEFT JOIN users_user u ON u.id = a.owner_id"
            " ORDER BY o.n DESC, a.id DESC LIMIT %s",
            [PAGE_SIZE],
        )
    else:
        rows = _all(
            "SELECT a.*, u.id, u.email, u.name, m.* FROM metrics_accountrequestmetrics m"
            " JOIN accounts_account a ON a.id = m.account_id"
            " LEFT JOIN users_user u ON u.id = a.owner_id"
            " ORDER BY m.open_count DESC, m.account_id DESC LIMIT %s",
            [PAGE_SIZE],
        )
    ids = [row[0] for row in rows]
    marks = ", ".join(["%s"] * len(ids)) or "NULL"
    _all(
        "SELECT * FROM (SELECT ac.account_id, c.id, c.email, c.name, c.kind, ROW_NUMBER()"
        " OVER (PARTITION BY ac.account_id ORDER BY c.name, c.email) AS n"
        " FROM accounts_accountcontact ac JOIN accounts_contact c ON c.id = ac.contact_id"
        f" WHERE ac.account_id IN ({marks})) shown WHERE n <= %s",
        [*ids, CONTACTS_SHOWN],
    )
    _all(
        "SELECT ca.account_id, ch.id, ch.name, ch.slack_channel_id FROM inbox_channelaccount ca"
        f" JOIN inbox_channel ch ON ch.id = ca.channel_id WHERE ca.account_id IN ({marks})"
        " ORDER BY ch.name",
        ids,
    )
    for status in ("not_mapped", "failing"):
        _all("SELECT COUNT(*) FROM accounts_account WHERE crm_sync_status = %s", [status])
    _all("SELECT id, email, name FROM users_user WHERE is_active ORDER BY name, email")
    _all(INDUSTRIES_SQL, [""])
    return ids


# --- the benchmark ----------------------------------------------------------------------------


def bench_request_metrics(*, runs: int, warmup: int) -> list[dict[str, Any]]:
    """Measure the request figures' hot paths against their bare-SQL baselines."""
    from bench.directory import compare_ms
    from bench.seed import BENCH_ADMIN_EMAIL
    from rapport.accounts.models import Account
    from rapport.directory.models import DirectoryPreference
    from rapport.metrics.selectors import account_requests
    from rapport.metrics.services import account_request_metrics_refresh
    from rapport.requests.models import Request
    from rapport.users.models import User

    total = int(os.environ.get("BENCH_REQUESTS", "") or DEFAULT_REQUESTS)
    added = requests_seed(total)
    if added:
        progress(f"bench: inserted {added:,} requests")
    requests_n = Request.objects.count()
    progress(f"bench: {requests_n:,} requests over {Account.objects.count():,} accounts")
    results: list[dict[str, Any]] = []

    # (a) The full refresh: slow enough that a few runs give a stable median.
    refresh_runs = max(1, min(runs, 5))
    progress("bench: request_metrics_refresh_full_ms")
    value, base = compare_ms(
        account_request_metrics_refresh, refresh_baseline, runs=refresh_runs, warmup=1
    )
    results.append(line("request_metrics_refresh_full_ms", value, "ms", base, refresh_runs))

    # (b) The account page's read, for the account with the most requests.
    busiest = (
        Request.objects.exclude(account=None)
        .values("account")
        .order_by()
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    assert busiest is not None
    account = Account.objects.get(pk=busiest["account"])
    progress(f"bench: account_request_metrics_read_ms ({busiest['n']:,} requests)")
    value, base = compare_ms(
        lambda: account_requests(account),
        lambda: account_read_baseline(account.pk),
        runs=runs,
        warmup=warmup,
    )
    results.append(line("account_request_metrics_read_ms", value, "ms", base, runs))

    # (c) The directory sorted by open requests.
    admin = User.objects.get(email=BENCH_ADMIN_EMAIL)
    client = Client()
    client.force_login(admin)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    previous = DirectoryPreference.objects.filter(user=admin).values_list("columns", flat=True)
    saved = next(iter(previous), None)
    DirectoryPreference.objects.update_or_create(user=admin, defaults={"columns": COLUMNS})
    try:
        params = {"sort": "-requests_open"}

        def page() -> Any:
            response = client.get("/accounts/", params)
            if response.status_code != 200:
                raise RuntimeError(f"The directory answered {response.status_code}.")
            return response

        expected = directory_page_baseline(session_key, admin.pk)
        shown = [int(i) for i in re.findall(r'href="/accounts/(\d+)/"', page().content.decode())]
        if list(dict.fromkeys(shown))[: len(expected)] != expected:
            raise RuntimeError("The bare-SQL baseline does not return the sorted page.")
        progress("bench: directory_sorted_open_requests_ms")
        value, base = compare_ms(
            page, lambda: directory_page_baseline(session_key, admin.pk), runs=runs, warmup=warmup
        )
        results.append(line("directory_sorted_open_requests_ms", value, "ms", base, runs))
        progress("bench: directory_sorted_open_live_aggregate_ms")
        value, base = compare_ms(
            lambda: directory_page_baseline(session_key, admin.pk, live=True),
            lambda: directory_page_baseline(session_key, admin.pk),
            runs=runs,
            warmup=warmup,
        )
        results.append(line("directory_sorted_open_live_aggregate_ms", value, "ms", base, runs))
        with CaptureQueriesContext(connection) as page_queries:
            page()
        with CaptureQueriesContext(connection) as base_queries:
            directory_page_baseline(session_key, admin.pk)
        results.append(
            line(
                "directory_sorted_open_queries",
                len(page_queries),
                "queries",
                len(base_queries),
                1,
            )
        )
    finally:
        if saved is None:
            DirectoryPreference.objects.filter(user=admin).delete()
        else:
            DirectoryPreference.objects.filter(user=admin).update(columns=saved)
    return results


def main() -> None:
    from pathlib import Path

    from bench import database

    runs = int(os.environ.get("BENCH_RUNS", "") or 30)
    warmup = int(os.environ.get("BENCH_WARMUP", "") or 5)
    accounts = int(os.environ.get("BENCH_ACCOUNTS", "") or 100_000)
    # BENCH_VAR_DIR: a SQLite benchmark database of its own, for example while another
    # benchmark uses the shared one.
    if os.environ.get("BENCH_VAR_DIR"):
        database.VAR_DIR = Path(os.environ["BENCH_VAR_DIR"])
    database.bench_environment_configure()
    os.environ["RAPPORT_VAR_DIR"] = str(database.VAR_DIR)

    import django

    django.setup()

    from bench.seed import bench_seed, bench_seed_marker

    progress(f"bench: {database.bench_database_describe()}")
    if not database.bench_database_prepare(bench_seed_marker(accounts)):
        start = time.perf_counter()
        bench_seed(accounts)
        progress(f"bench: seeded {accounts:,} accounts in {time.perf_counter() - start:.1f} s")
    for result in bench_request_metrics(runs=runs, warmup=warmup):
        print(json.dumps(result), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

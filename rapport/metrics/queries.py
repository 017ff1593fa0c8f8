"""The SQL that computes accounts' request figures, for the refresh and for live reads.

One statement, set-based: the requests of the target accounts are grouped by account
for the counts and averages, and grouped by (account, requester) and (account, source)
then ranked with ROW_NUMBER() for the top requester and top source. Every target
account gets a row, zeros when it has no request. The same text runs on SQLite and
PostgreSQL but for the difference of two timestamps in seconds.

The refresh wraps it in `INSERT ... ON CONFLICT DO UPDATE`, so the figures go from the
requests table to the metrics table without passing through Python.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from rapport.requests.models import RequestStatus

# The columns of AccountRequestMetrics the statement fills, in its SELECT order.
FIGURES = (
    "open_count",
    "waiting_count",
    "pending_count",
    "closed_count",
    "total_count",
    "last_request_at",
    "top_requester_id",
    "top_requester_name",
    "top_source",
    "avg_first_response_seconds",
    "avg_resolution_seconds",
    "avg_csat",
    "csat_count",
    "first_response_breaches",
    "resolution_breaches",
    "breach_count",
)
TABLE = "metrics_accountrequestmetrics"


@dataclass(frozen=True)
class Targets:
    """The accounts a statement covers: SQL returning their ids, with its parameters.

    `all_accounts` lets the statement read every request without the id filter.
    """

    sql: str
    params: Sequence[Any] = ()
    all_accounts: bool = False


def targets_all() -> Targets:
    return Targets("SELECT id FROM accounts_account", (), all_accounts=True)


def targets_ids(ids: Sequence[int]) -> Targets:
    marks = ", ".join(["%s"] * len(ids))
    sql = f"SELECT id FROM accounts_account WHERE id IN ({marks})"  # noqa: S608 - placeholders
    return Targets(sql, tuple(ids))


def targets_changed(
    connection: BaseDatabaseWrapper, since: datetime.datetime, now: datetime.datetime
) -> Targets:
    """The accounts whose figures may have changed since *since*.

    Those with a request written since then (`updated_at` is indexed and kept by the
    services), those with a request that crossed a due date without being written
    (a breach starts by the clock alone), and those without a row yet (new accounts).
    """
    since_db = connection.ops.adapt_datetimefield_value(since)
    now_db = connection.ops.adapt_datetimefield_value(now)
    sql = (
        "SELECT account_id FROM requests_request"
        " WHERE updated_at >= %s AND account_id IS NOT NULL"
        " UNION"
        " SELECT account_id FROM requests_request WHERE account_id IS NOT NULL AND ("
        "(first_response_at IS NULL AND first_response_due_at > %s"
        " AND first_response_due_at <= %s)"
        " OR (closed_at IS NULL AND resolution_due_at > %s AND resolution_due_at <= %s))"
        " UNION"
        " SELECT a.id FROM accounts_account a"
        " WHERE NOT EXISTS (SELECT 1 FROM metrics_accountrequestmetrics m"
        " WHERE m.account_id = a.id)"
    )
    return Targets(sql, (since_db, since_db, now_db, since_db, now_db))


def _seconds(vendor: str, later: str, earlier: str) -> str:
    if vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def figures_select(
    connection: BaseDatabaseWrapper,
    targets: Targets,
    now: datetime.datetime,
    *,
    refreshed_at: bool = False,
) -> tuple[str, list[Any]]:
    """Return the statement selecting (account_id, *FIGURES) for *targets* at time *now*.

    A request breaches its first-response target when answered after it, or still
    unanswered once it has passed; its resolution target when closed after it, or
    still not closed once it has passed. With *refreshed_at*, *now* is appended as a
    last column.
    """
    vendor = connection.vendor
    now_db = connection.ops.adapt_datetimefield_value(now)
    scope = (
        "r.account_id IS NOT NULL"
        if targets.all_accounts
        else "r.account_id IN (SELECT account_id FROM targets)"
    )
    first_seconds = _seconds(vendor, "first_response_at", "created_at")
    resolution_seconds = _seconds(vendor, "closed_at", "created_at")
    # Only fixed SQL goes into the text; every value is a placeholder.
    sql = f"""
WITH targets (account_id) AS ({targets.sql}),
scoped AS (
    SELECT r.account_id, r.status, r.source, r.created_at, r.first_response_at, r.closed_at,
        r.csat_score, r.first_response_due_at, r.resolution_due_at,
        r.requester_id, r.requester_name, r.requester_email,
        CASE
            WHEN r.requester_id IS NOT NULL THEN 'c:' || CAST(r.requester_id AS VARCHAR(20))
            WHEN r.requester_email <> '' THEN 'e:' || LOWER(r.requester_email)
            WHEN r.requester_external_id <> '' THEN 'x:' || r.requester_external_id
            WHEN r.requester_name <> '' THEN 'n:' || r.requester_name
        END AS requester_key
    FROM requests_request r
    WHERE {scope}
),
totals AS (
    SELECT account_id,
        SUM(CASE WHEN status = '{RequestStatus.OPEN}' THEN 1 ELSE 0 END) AS open_count,
        SUM(CASE WHEN status = '{RequestStatus.WAITING}' THEN 1 ELSE 0 END) AS waiting_count,
        SUM(CASE WHEN status = '{RequestStatus.PENDING}' THEN 1 ELSE 0 END) AS pending_count,
        SUM(CASE WHEN status = '{RequestStatus.CLOSED}' THEN 1 ELSE 0 END) AS closed_count,
        COUNT(*) AS total_count,
        MAX(created_at) AS last_request_at,
        AVG(CASE WHEN first_response_at IS NOT NULL THEN {first_seconds} END)
            AS avg_first_response_seconds,
        AVG(CASE WHEN closed_at IS NOT NULL THEN {resolution_seconds} END)
            AS avg_resolution_seconds,
        AVG(csat_score * 1.0) AS avg_csat,
        COUNT(csat_score) AS csat_count,
        SUM(CASE WHEN first_response_due_at IS NOT NULL AND (
                first_response_at > first_response_due_at
                OR (first_response_at IS NULL AND first_response_due_at < %s))
            THEN 1 ELSE 0 END) AS first_response_breaches,
        SUM(CASE WHEN resolution_due_at IS NOT NULL AND (
                closed_at > resolution_due_at
                OR (closed_at IS NULL AND resolution_due_at < %s))
            THEN 1 ELSE 0 END) AS resolution_breaches
    FROM scoped
    GROUP BY account_id
),
requesters AS (
    SELECT account_id, MAX(requester_id) AS requester_id,
        MAX(requester_name) AS requester_name, MAX(requester_email) AS requester_email
    FROM (
        SELECT account_id, requester_id, requester_name, requester_email,
            ROW_NUMBER() OVER (
                PARTITION BY account_id ORDER BY n DESC, last_at DESC, requester_key
            ) AS position
        FROM (
            SELECT account_id, requester_key, MAX(requester_id) AS requester_id,
                MAX(requester_name) AS requester_name, MAX(requester_email) AS requester_email,
                COUNT(*) AS n, MAX(created_at) AS last_at
            FROM scoped
            WHERE requester_key IS NOT NULL
            GROUP BY account_id, requester_key
        ) grouped
    ) ranked
    WHERE position = 1
    GROUP BY account_id
),
sources AS (
    SELECT account_id, MAX(source) AS source FROM (
        SELECT account_id, source,
            ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY n DESC, last_at DESC, source)
                AS position
        FROM (
            SELECT account_id, source, COUNT(*) AS n, MAX(created_at) AS last_at
            FROM scoped
            GROUP BY account_id, source
        ) grouped
    ) ranked
    WHERE position = 1
    GROUP BY account_id
)
SELECT t.account_id,
    COALESCE(s.open_count, 0), COALESCE(s.waiting_count, 0), COALESCE(s.pending_count, 0),
    COALESCE(s.closed_count, 0), COALESCE(s.total_count, 0), s.last_request_at,
    rq.requester_id,
    COALESCE(NULLIF(c.name, ''), NULLIF(rq.requester_name, ''), c.email, rq.requester_email, ''),
    COALESCE(so.source, ''),
    s.avg_first_response_seconds, s.avg_resolution_seconds, s.avg_csat,
    COALESCE(s.csat_count, 0),
    COALESCE(s.first_response_breaches, 0), COALESCE(s.resolution_breaches, 0),
    COALESCE(s.first_response_breaches, 0) + COALESCE(s.resolution_breaches, 0)
    {", %s" if refreshed_at else ""}
FROM targets t
LEFT JOIN totals s ON s.account_id = t.account_id
LEFT JOIN requesters rq ON rq.account_id = t.account_id
LEFT JOIN accounts_contact c ON c.id = rq.requester_id
LEFT JOIN sources so ON so.account_id = t.account_id
WHERE 1 = 1"""  # noqa: S608
    params = [*targets.params, now_db, now_db]
    if refreshed_at:
        params.append(now_db)
    return sql, params


def figures_upsert(
    connection: BaseDatabaseWrapper, targets: Targets, now: datetime.datetime
) -> tuple[str, list[Any]]:
    """Return the statement that writes the figures of *targets* into the metrics table.

    `WHERE 1 = 1` in the SELECT keeps SQLite from reading ON CONFLICT as a join's ON.
    """
    select, params = figures_select(connection, targets, now, refreshed_at=True)
    columns = ", ".join(("account_id", *FIGURES, "refreshed_at"))
    updates = ", ".join(f"{name} = excluded.{name}" for name in (*FIGURES, "refreshed_at"))
    # Rewrite only rows whose figures changed: a full refresh otherwise rewrites every
    # row and its seven indexes, though most accounts had no request since the last one.
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    changed = " OR ".join(f"{TABLE}.{name} {differs} excluded.{name}" for name in FIGURES)
    sql = (
        f"INSERT INTO {TABLE} ({columns}) {select}\n"
        f"ON CONFLICT (account_id) DO UPDATE SET {updates} WHERE {changed}"
    )
    return sql, params

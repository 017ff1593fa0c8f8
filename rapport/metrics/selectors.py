"""Reads of the metrics app: one account's request figures, its latest requests, policies."""

import datetime
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from rapport.accounts.models import Account
from rapport.core.errors import NotFound
from rapport.metrics.models import AccountRequestMetrics, SlaPolicy
from rapport.metrics.queries import FIGURES, figures_select, targets_ids
from rapport.requests.models import Request

LATEST_REQUESTS = 10


@dataclass
class AccountRequests:
    """What the account page's Requests section shows."""

    metrics: AccountRequestMetrics
    latest: list[Request]


def account_request_metrics_live(account_id: int) -> AccountRequestMetrics:
    """Compute one account's figures now, with the statement the refresh runs (unsaved).

    One grouped query over the account's requests (through the requests' account
    index): cheap for one account, and the same definitions as the directory's
    precomputed rows, which lag by at most one refresh.
    """
    connection = connections[router.db_for_read(AccountRequestMetrics)]
    now = timezone.now()
    sql, params = figures_select(connection, targets_ids([account_id]), now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return AccountRequestMetrics(account_id=account_id, refreshed_at=now)
    values = dict(zip(FIGURES, row[1:], strict=True))
    # SQLite answers a timestamp as text, in UTC.
    last = values["last_request_at"]
    if isinstance(last, str):
        parsed = parse_datetime(last)
        values["last_request_at"] = (
            parsed.replace(tzinfo=datetime.UTC) if parsed and parsed.tzinfo is None else parsed
        )
    for name in ("avg_first_response_seconds", "avg_resolution_seconds", "avg_csat"):
        if values[name] is not None:
            values[name] = float(values[name])
    return AccountRequestMetrics(account_id=account_id, refreshed_at=now, **values)


def account_latest_requests(account: Account, limit: int = LATEST_REQUESTS) -> list[Request]:
    """Return the account's latest requests, newest first, with their requester and assignee."""
    return list(
        Request.objects.filter(account=account)
        .select_related("requester", "assignee")
        .order_by("-created_at", "-id")[:limit]
    )


def account_requests(account: Account) -> AccountRequests:
    """Return the account page's request figures (live) and latest requests: two queries."""
    return AccountRequests(
        metrics=account_request_metrics_live(account.pk), latest=account_latest_requests(account)
    )


def sla_policies() -> QuerySet[SlaPolicy]:
    """Return every SLA policy, the default first, then by tier."""
    return SlaPolicy.objects.order_by("tier", "name")


def sla_policy_get(policy_id: int) -> SlaPolicy:
    """Return one SLA policy, or raise NotFound."""
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(f"No SLA policy with id {policy_id}.")
    return policy

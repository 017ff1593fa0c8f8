"""Shapes of request figures and SLA policies in the JSON API."""

import datetime
from typing import Any

from ninja import Field, Schema

from rapport.metrics.models import AccountRequestMetrics, SlaPolicy


class TopRequesterOut(Schema):
    contact_id: int | None
    name: str


class RequestMetricsOut(Schema):
    """An account's request figures; durations in seconds, CSAT from 1 to 5."""

    account_id: int
    open: int
    waiting: int
    pending: int
    closed: int
    total: int
    last_request_at: datetime.datetime | None
    top_requester: TopRequesterOut | None
    top_source: str | None
    avg_first_response_seconds: float | None
    avg_resolution_seconds: float | None
    avg_csat: float | None
    csat_count: int
    first_response_breaches: int
    resolution_breaches: int
    computed_at: datetime.datetime


class SlaPolicyOut(Schema):
    id: int
    name: str
    tier: str = Field(description="Empty for the default policy.")
    first_response_minutes: int | None
    resolution_minutes: int | None
    always_on: bool
    timezone: str
    weekdays: list[int] = Field(description="0 = Monday ... 6 = Sunday.")
    day_start: str = Field(description="Local time the working day starts, HH:MM.")
    day_end: str = Field(description="Local time the working day ends, HH:MM.")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class SlaPolicyListOut(Schema):
    items: list[SlaPolicyOut]
    count: int


class SlaPolicyIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    tier: str = Field("", max_length=50)
    first_response_minutes: int | None = Field(None, ge=1)
    resolution_minutes: int | None = Field(None, ge=1)
    always_on: bool = False
    timezone: str = Field("UTC", max_length=64)
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], max_length=7)
    day_start: str = Field("09:00", max_length=16, description="HH:MM, local time.")
    day_end: str = Field("18:00", max_length=16, description="HH:MM, local time.")


class SlaPolicyPatchIn(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    tier: str | None = Field(None, max_length=50)
    first_response_minutes: int | None = Field(None, ge=1)
    resolution_minutes: int | None = Field(None, ge=1)
    always_on: bool | None = None
    timezone: str | None = Field(None, max_length=64)
    weekdays: list[int] | None = Field(None, max_length=7)
    day_start: str | None = Field(None, max_length=16)
    day_end: str | None = Field(None, max_length=16)


def request_metrics_out(metrics: AccountRequestMetrics) -> dict[str, Any]:
    """Build the API shape of an account's figures (live or precomputed)."""
    has_requester = metrics.top_requester_id is not None or bool(metrics.top_requester_name)
    return {
        "account_id": metrics.account_id,
        "open": metrics.open_count,
        "waiting": metrics.waiting_count,
        "pending": metrics.pending_count,
        "closed": metrics.closed_count,
        "total": metrics.total_count,
        "last_request_at": metrics.last_request_at,
        "top_requester": (
            {"contact_id": metrics.top_requester_id, "name": metrics.top_requester_name}
            if has_requester
            else None
        ),
        "top_source": metrics.top_source or None,
        "avg_first_response_seconds": metrics.avg_first_response_seconds,
        "avg_resolution_seconds": metrics.avg_resolution_seconds,
        "avg_csat": metrics.avg_csat,
        "csat_count": metrics.csat_count,
        "first_response_breaches": metrics.first_response_breaches,
        "resolution_breaches": metrics.resolution_breaches,
        "computed_at": metrics.refreshed_at,
    }


def sla_policy_out(policy: SlaPolicy) -> dict[str, Any]:
    """Build the API shape of a policy; times as HH:MM (a JSON "time" needs an offset)."""
    return {
        "id": policy.pk,
        "name": policy.name,
        "tier": policy.tier,
        "first_response_minutes": policy.first_response_minutes,
        "resolution_minutes": policy.resolution_minutes,
        "always_on": policy.always_on,
        "timezone": policy.timezone,
        "weekdays": policy.weekdays,
        "day_start": policy.day_start.isoformat(timespec="minutes"),
        "day_end": policy.day_end.isoformat(timespec="minutes"),
        "created_at": policy.created_at,
        "updated_at": policy.updated_at,
    }

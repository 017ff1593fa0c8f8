"""Shapes of request figures and SLA policies in the JSON API."""

import datetime
from typing import Any

from ninja import Field, Schema

from rapport.core.spec_schemas import schema_field, schema_model, specs_fields
from rapport.metrics.models import AccountRequestMetrics, SlaPolicy
from rapport.metrics.specs import POLICY_SPECS


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


_SlaPolicyInFields: Any = schema_model(
    "SlaPolicyInFields", __name__, specs_fields(POLICY_SPECS, schema_field), base=Schema
)
_SlaPolicyPatchFields: Any = schema_model(
    "SlaPolicyPatchFields",
    __name__,
    specs_fields(POLICY_SPECS, schema_field, patch=True),
    base=Schema,
)


class SlaPolicyIn(_SlaPolicyInFields):
    """A new policy, its fields as declared in `rapport.metrics.specs`."""

    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], max_length=7)


class SlaPolicyPatchIn(_SlaPolicyPatchFields):
    """Any subset of a policy's fields."""

    weekdays: list[int] | None = Field(None, max_length=7)


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

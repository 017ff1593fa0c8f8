"""SLA targets: which policy applies to an account, and business-time arithmetic."""

import datetime
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass

from rapport.accounts.models import Account
from rapport.metrics.models import SlaPolicy

# A target longer than a year is a typo; it also bounds the day-by-day walk below.
MAX_TARGET_MINUTES = 366 * 24 * 60


@dataclass(frozen=True)
class BusinessHours:
    """When SLA time runs: working weekdays (0 = Monday) from *start* to *end*, local time.

    `always_on` means every minute counts (24/7) and the rest is ignored.
    """

    timezone: str = "UTC"
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: datetime.time = datetime.time(9, 0)
    end: datetime.time = datetime.time(18, 0)
    always_on: bool = False

    @classmethod
    def of(cls, policy: SlaPolicy) -> "BusinessHours":
        return cls(
            timezone=policy.timezone,
            weekdays=frozenset(int(d) for d in policy.weekdays),
            start=policy.day_start,
            end=policy.day_end,
            always_on=policy.always_on,
        )


def business_minutes_add(
    start: datetime.datetime, minutes: int, hours: BusinessHours
) -> datetime.datetime:
    """Return the instant *minutes* business minutes after *start* (an aware datetime).

    The walk goes day by day in the policy's time zone: a day's window runs from its
    local start to its local end, and only the elapsed time inside windows counts, so a
    window that spans a daylight-saving change counts its real length. The answer is in
    UTC.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if not 0 <= minutes <= MAX_TARGET_MINUTES:
        raise ValueError(f"minutes must be from 0 to {MAX_TARGET_MINUTES}")
    start = start.astimezone(datetime.UTC)
    if hours.always_on or minutes == 0:
        return start + datetime.timedelta(minutes=minutes)
    if not hours.weekdays or not hours.start < hours.end:
        raise ValueError("business hours need a weekday and a start before the end")
    zone = zoneinfo.ZoneInfo(hours.timezone)
    remaining = datetime.timedelta(minutes=minutes)
    # A week of windows on the wall clock; whole weeks are skipped at once, so a long
    # target over short windows takes a few steps, not one per day.
    daily = datetime.datetime.combine(datetime.date.min, hours.end) - datetime.datetime.combine(
        datetime.date.min, hours.start
    )
    week = daily * len(hours.weekdays)
    cursor = start
    day = start.astimezone(zone).date()
    while True:
        if day.weekday() in hours.weekdays:
            opens = datetime.datetime.combine(day, hours.start, zone).astimezone(datetime.UTC)
            closes = datetime.datetime.combine(day, hours.end, zone).astimezone(datetime.UTC)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                cursor = closes
        day += datetime.timedelta(days=1)
        if remaining > 2 * week:
            weeks = remaining // week - 1
            day += datetime.timedelta(weeks=weeks)
            remaining -= week * weeks


def sla_policies_load() -> dict[str, SlaPolicy]:
    """Return every policy by tier, for callers that open many requests at once."""
    return {p.tier: p for p in SlaPolicy.objects.all()}


def sla_policy_for(
    account: Account | None, policies: Mapping[str, SlaPolicy] | None = None
) -> SlaPolicy | None:
    """Return the policy of *account*'s tier, else the default policy, else None."""
    tier = account.tier if account is not None else ""
    if policies is None:
        policies = {p.tier: p for p in SlaPolicy.objects.filter(tier__in={tier, ""})}
    return policies.get(tier) or policies.get("")


def sla_due_dates(
    account: Account | None,
    start: datetime.datetime,
    policies: Mapping[str, SlaPolicy] | None = None,
) -> tuple[datetime.datetime | None, datetime.datetime | None, str]:
    """Return (first response due, resolution due, policy name) for a request opened at *start*.

    *policies* (from `sla_policies_load`) saves a query per request in a batch.
    """
    policy = sla_policy_for(account, policies)
    if policy is None:
        return None, None, ""
    hours = BusinessHours.of(policy)
    first = (
        business_minutes_add(start, policy.first_response_minutes, hours)
        if policy.first_response_minutes is not None
        else None
    )
    resolution = (
        business_minutes_add(start, policy.resolution_minutes, hours)
        if policy.resolution_minutes is not None
        else None
    )
    return first, resolution, policy.name

"""Every write of the metrics app: SLA policies and the refresh of account request figures."""

import datetime
import zoneinfo
from collections.abc import Sequence
from itertools import batched
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from rapport.audit.services import audit_changes, audit_record
from rapport.core.errors import Conflict, InvalidInput
from rapport.metrics.models import AccountRequestMetrics, MetricsRefreshState, SlaPolicy
from rapport.metrics.queries import figures_upsert, targets_all, targets_changed, targets_ids
from rapport.metrics.specs import DAY_END, DAY_START, POLICY_SPECS
from rapport.users.models import User
from rapport.users.services import user_require_admin

# Ids per statement when refreshing given accounts: far below SQLite's parameter limit.
REFRESH_BATCH = 500
# The incremental refresh reads changes from a little before its last run: a request
# written in a transaction that committed after that run started has an earlier
# `updated_at` than the run. Refreshing an account twice is harmless.
CHANGES_OVERLAP = datetime.timedelta(minutes=5)

# The policy's declared fields, and its working days (checked here, not declared).
POLICY_FIELDS = (*(spec.name for spec in POLICY_SPECS), "weekdays")


# --- SLA policies -----------------------------------------------------------------------------


def _policy_clean(values: dict[str, Any]) -> dict[str, Any]:
    """Validate policy fields (all of them, as the policy will be); raise InvalidInput.

    Each field is checked against its declaration in `rapport.metrics.specs`; the
    working days and the checks across fields are the policy's own.
    """
    cleaned = dict(values)
    for spec in POLICY_SPECS:
        value = cleaned.get(spec.name)
        if value is None and spec.default is not None:
            value = spec.default
        cleaned[spec.name] = spec.validate(value)
    zone = cleaned["timezone"]
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{zone!r} is not a known time zone.", field="timezone") from None
    weekdays = cleaned.get("weekdays")
    if weekdays is None:
        weekdays = [0, 1, 2, 3, 4]
    if not isinstance(weekdays, list | tuple) or any(
        isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays
    ):
        raise InvalidInput("Weekdays are numbers from 0 (Monday) to 6 (Sunday).", field="weekdays")
    cleaned["weekdays"] = sorted(set(weekdays))
    if not cleaned["always_on"]:
        if not cleaned["weekdays"]:
            raise InvalidInput("Pick at least one working day, or make it 24/7.", field="weekdays")
        for name in ("day_start", "day_end"):
            if cleaned.get(name) is None:
                raise InvalidInput(
                    "Set when the working day starts and ends, or make it 24/7.", field=name
                )
        if not cleaned["day_start"] < cleaned["day_end"]:
            raise InvalidInput("The working day must end after it starts.", field="day_end")
    else:
        # The hours do not count for a 24/7 policy; left blank, they keep their defaults.
        for spec in (DAY_START, DAY_END):
            if cleaned.get(spec.name) is None:
                cleaned[spec.name] = spec.validate(spec.default)
    return cleaned


def _snapshot(policy: SlaPolicy) -> dict[str, Any]:
    values = {name: getattr(policy, name) for name in POLICY_FIELDS}
    values["day_start"] = policy.day_start.isoformat(timespec="minutes")
    values["day_end"] = policy.day_end.isoformat(timespec="minutes")
    return values


def _tier_taken(tier: str) -> Conflict:
    which = f"the {tier!r} tier" if tier else "accounts without a tier of their own (default)"
    return Conflict(f"There is already a policy for {which}.", field="tier")


def _policy_save(policy: SlaPolicy) -> None:
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        if SlaPolicy.objects.filter(tier=policy.tier).exclude(pk=policy.pk).exists():
            raise _tier_taken(policy.tier) from None
        raise


@transaction.atomic
def sla_policy_create(*, actor: User, **values: Any) -> SlaPolicy:
    """Create an SLA policy (admins only); one policy per tier, "" being the default."""
    user_require_admin(actor, "manage SLA policies")
    unknown = sorted(set(values) - set(POLICY_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown policy fields: {', '.join(unknown)}.")
    cleaned = _policy_clean(values)
    if SlaPolicy.objects.filter(tier=cleaned["tier"]).exists():
        raise _tier_taken(cleaned["tier"])
    policy = SlaPolicy(**cleaned)
    _policy_save(policy)
    audit_record(
        actor=actor,
        action="sla_policy.create",
        obj=policy,
        changes=audit_changes({}, _snapshot(policy)),
    )
    return policy


@transaction.atomic
def sla_policy_update(*, actor: User, policy: SlaPolicy, **changes: Any) -> SlaPolicy:
    """Change an SLA policy (admins only); requests keep the targets they opened with."""
    user_require_admin(actor, "manage SLA policies")
    unknown = sorted(set(changes) - set(POLICY_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown policy fields: {', '.join(unknown)}.")
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    before = _snapshot(policy)
    cleaned = _policy_clean({name: getattr(policy, name) for name in POLICY_FIELDS} | changes)
    if SlaPolicy.objects.filter(tier=cleaned["tier"]).exclude(pk=policy.pk).exists():
        raise _tier_taken(cleaned["tier"])
    for name, value in cleaned.items():
        setattr(policy, name, value)
    _policy_save(policy)
    audit_record(
        actor=actor,
        action="sla_policy.update",
        obj=policy,
        changes=audit_changes(before, _snapshot(policy)),
    )
    return policy


@transaction.atomic
def sla_policy_delete(*, actor: User, policy: SlaPolicy) -> None:
    """Delete an SLA policy (admins only); its accounts fall back to the default policy."""
    user_require_admin(actor, "manage SLA policies")
    before = _snapshot(policy)
    audit_record(
        actor=actor,
        action="sla_policy.delete",
        obj=policy,
        changes=audit_changes(before, {}),
    )
    policy.delete()


# --- request figures --------------------------------------------------------------------------


def account_request_metrics_refresh(
    account_ids: Sequence[int] | None = None, *, now: datetime.datetime | None = None
) -> int:
    """Recompute the request figures of *account_ids* (None: every account), in SQL.

    One INSERT ... SELECT ... ON CONFLICT statement per batch of accounts does the
    grouping, ranking and upsert in the database (see `rapport.metrics.queries`); every
    account covered gets a row, zeros when it has no request. Returns the rows written.
    """
    now = now or timezone.now()
    connection = connections[router.db_for_write(AccountRequestMetrics)]
    written = 0
    if account_ids is None:
        batches = [targets_all()]
    else:
        ids = sorted({int(i) for i in account_ids})
        batches = [targets_ids(chunk) for chunk in batched(ids, REFRESH_BATCH)]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for targets in batches:
            sql, params = figures_upsert(connection, targets, now)
            cursor.execute(sql, params)
            written += max(cursor.rowcount, 0)
    return written


@transaction.atomic
def metrics_refresh_changed(*, now: datetime.datetime | None = None) -> int:
    """Refresh the accounts whose request figures may have changed since the last run.

    The first run (a new install) refreshes every account. The state row is locked for
    the run, so two workers running it at once take turns instead of both scanning.
    """
    now = now or timezone.now()
    MetricsRefreshState.objects.get_or_create(pk=1)
    state = MetricsRefreshState.objects.select_for_update().get(pk=1)
    connection = connections[router.db_for_write(AccountRequestMetrics)]
    if state.refreshed_through is None:
        targets = targets_all()
    else:
        targets = targets_changed(connection, state.refreshed_through - CHANGES_OVERLAP, now)
    with connection.cursor() as cursor:
        sql, params = figures_upsert(connection, targets, now)
        cursor.execute(sql, params)
        written = max(cursor.rowcount, 0)
    state.refreshed_through = now
    state.save(update_fields=["refreshed_through", "updated_at"])
    return written


def metrics_refresh_all() -> int:
    """Recompute every account's figures and restart the incremental refresh from now.

    The full pass also corrects what the incremental one cannot see: requests deleted,
    or moved to another account, leave no trace in the requests table.
    """
    now = timezone.now()
    with transaction.atomic():
        written = account_request_metrics_refresh(None, now=now)
        MetricsRefreshState.objects.update_or_create(pk=1, defaults={"refreshed_through": now})
    return written

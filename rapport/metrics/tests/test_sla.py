"""SLA targets: business-time arithmetic (properties), policy choice, and policy changes."""

import datetime
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account
from rapport.audit.models import AuditEntry
from rapport.core.errors import Conflict, InvalidInput, PermissionDenied
from rapport.metrics.models import SlaPolicy
from rapport.metrics.services import sla_policy_create, sla_policy_delete, sla_policy_update
from rapport.metrics.sla import BusinessHours, business_minutes_add, sla_due_dates
from rapport.metrics.tests.factories import make_request
from rapport.users.models import User

PARIS = "Europe/Paris"
OFFICE = BusinessHours(timezone=PARIS)  # Mon-Fri 09:00-18:00
instants = st.datetimes(
    # Hypothesis wants naive bounds and adds the zone itself.
    min_value=datetime.datetime(2020, 1, 1),  # noqa: DTZ001
    max_value=datetime.datetime(2035, 12, 31),  # noqa: DTZ001
    timezones=st.just(datetime.UTC),
)
zones = st.sampled_from(["UTC", PARIS, "America/New_York", "Asia/Kolkata", "Australia/Sydney"])
weekday_sets = st.frozensets(st.integers(0, 6), min_size=1)
minutes = st.integers(0, 20_000)


@st.composite
def business_hours(draw: st.DrawFn, earliest: int = 0) -> BusinessHours:
    start = draw(st.integers(earliest, 22 * 60))
    end = draw(st.integers(start + 1, 24 * 60 - 1))
    return BusinessHours(
        timezone=draw(zones),
        weekdays=draw(weekday_sets),
        start=datetime.time(start // 60, start % 60),
        end=datetime.time(end // 60, end % 60),
    )


def _local(value: datetime.datetime, zone: str = PARIS) -> datetime.datetime:
    return value.astimezone(zoneinfo.ZoneInfo(zone))


@given(instants, minutes, business_hours())
def test_a_due_time_is_never_before_the_start(
    start: datetime.datetime, n: int, hours: BusinessHours
) -> None:
    assert business_minutes_add(start, n, hours) >= start


@given(instants, minutes, zones)
def test_a_24_7_policy_is_plain_addition(start: datetime.datetime, n: int, zone: str) -> None:
    hours = BusinessHours(timezone=zone, always_on=True)
    assert business_minutes_add(start, n, hours) == start + datetime.timedelta(minutes=n)


# Windows from 04:00 on: daylight-saving changes (between 00:00 and 03:00 in these zones)
# fall outside them, so a skipped week holds as many real minutes as wall-clock ones.
@given(instants, st.integers(0, 5000), st.integers(0, 5000), business_hours(earliest=4 * 60))
def test_adding_in_two_steps_lands_where_adding_at_once_does(
    start: datetime.datetime, a: int, b: int, hours: BusinessHours
) -> None:
    once = business_minutes_add(start, a + b, hours)
    assert business_minutes_add(business_minutes_add(start, a, hours), b, hours) == once


@given(instants, st.integers(1, 20_000), business_hours())
def test_a_due_time_falls_inside_business_hours(
    start: datetime.datetime, n: int, hours: BusinessHours
) -> None:
    due = _local(business_minutes_add(start, n, hours), hours.timezone)
    # The due instant is inside a window, or exactly at its end.
    assert due.weekday() in hours.weekdays
    assert hours.start < due.time().replace(tzinfo=None) <= hours.end or (due.time() == hours.start)


@given(instants, st.integers(1, 5000))
def test_more_minutes_never_come_due_earlier(start: datetime.datetime, n: int) -> None:
    assert business_minutes_add(start, n, OFFICE) <= business_minutes_add(start, n + 1, OFFICE)


def test_friday_evening_plus_an_hour_is_due_monday_morning() -> None:
    friday = datetime.datetime(2026, 11, 20, 17, 30, tzinfo=zoneinfo.ZoneInfo(PARIS))
    due = business_minutes_add(friday, 60, OFFICE)
    assert _local(due) == datetime.datetime(2026, 11, 23, 9, 30, tzinfo=zoneinfo.ZoneInfo(PARIS))


def test_a_request_on_saturday_counts_from_monday_opening() -> None:
    saturday = datetime.datetime(2026, 11, 21, 12, 0, tzinfo=zoneinfo.ZoneInfo(PARIS))
    due = business_minutes_add(saturday, 9 * 60 + 30, OFFICE)
    assert _local(due) == datetime.datetime(2026, 11, 24, 9, 30, tzinfo=zoneinfo.ZoneInfo(PARIS))


def test_business_time_counts_real_minutes_across_a_daylight_saving_change() -> None:
    # Paris goes to summer time on Sunday 2026-03-29; 24/5 windows make the gap visible.
    hours = BusinessHours(
        timezone=PARIS,
        weekdays=frozenset(range(7)),
        start=datetime.time(0, 0),
        end=datetime.time(23, 59),
    )
    start = datetime.datetime(2026, 3, 29, 1, 0, tzinfo=zoneinfo.ZoneInfo(PARIS))
    due = business_minutes_add(start, 120, hours)
    assert due - start.astimezone(datetime.UTC) == datetime.timedelta(hours=2)
    assert _local(due).hour == 4  # 01:00 + 2 real hours is 04:00 summer time


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        business_minutes_add(datetime.datetime(2026, 1, 1), 10, OFFICE)  # noqa: DTZ001


# --- which policy applies --------------------------------------------------------------------


@pytest.fixture
def policies(admin_user: User) -> tuple[SlaPolicy, SlaPolicy]:
    default = sla_policy_create(
        actor=admin_user,
        name="Standard",
        first_response_minutes=240,
        resolution_minutes=2400,
        timezone=PARIS,
    )
    enterprise = sla_policy_create(
        actor=admin_user,
        name="Enterprise",
        tier="Enterprise",
        first_response_minutes=60,
        always_on=True,
    )
    return default, enterprise


@pytest.mark.django_db
def test_an_account_gets_its_tiers_policy_or_else_the_default(
    policies: tuple[SlaPolicy, SlaPolicy],
) -> None:
    start = datetime.datetime(2026, 11, 20, 16, 30, tzinfo=datetime.UTC)  # 17:30 in Paris
    big = Account(name="Big", tier="Enterprise")
    first, resolution, name = sla_due_dates(big, start)
    assert (first, resolution, name) == (start + datetime.timedelta(hours=1), None, "Enterprise")
    first, resolution, name = sla_due_dates(Account(name="Small", tier="Gold"), start)
    assert name == "Standard"
    assert first is not None and _local(first).isoformat() == "2026-11-23T12:30:00+01:00"
    assert sla_due_dates(None, start)[2] == "Standard"


@pytest.mark.django_db
def test_without_any_policy_a_request_has_no_targets() -> None:
    assert sla_due_dates(Account(name="X"), datetime.datetime.now(datetime.UTC)) == (None, None, "")


@pytest.mark.django_db
def test_a_new_request_takes_its_targets_from_the_accounts_policy(
    policies: tuple[SlaPolicy, SlaPolicy],
) -> None:
    account = make_account()
    # The tier is set by the CRM sync or an admin; no account service writes it yet.
    Account.objects.filter(pk=account.pk).update(tier="Enterprise")
    account.refresh_from_db()
    sent = datetime.datetime(2026, 11, 21, 10, 0, tzinfo=datetime.UTC)
    request = make_request(account, sent_at=sent)
    assert request.sla_policy_name == "Enterprise"
    assert request.first_response_due_at == sent + datetime.timedelta(hours=1)
    assert request.resolution_due_at is None


# --- policy changes and roles -----------------------------------------------------------------


@pytest.mark.django_db
def test_only_an_admin_manages_policies(admin_user: User, member_user: User) -> None:
    with pytest.raises(PermissionDenied):
        sla_policy_create(actor=member_user, name="Nope")
    policy = sla_policy_create(actor=admin_user, name="Default", first_response_minutes=30)
    with pytest.raises(PermissionDenied):
        sla_policy_update(actor=member_user, policy=policy, name="Changed")
    with pytest.raises(PermissionDenied):
        sla_policy_delete(actor=member_user, policy=policy)
    assert SlaPolicy.objects.get().name == "Default"


@pytest.mark.django_db
def test_policy_changes_are_audited(admin_user: User) -> None:
    policy = sla_policy_create(actor=admin_user, name="Default", first_response_minutes=30)
    sla_policy_update(actor=admin_user, policy=policy, first_response_minutes=45)
    sla_policy_delete(actor=admin_user, policy=policy)
    entries = AuditEntry.objects.filter(object_type="metrics.slapolicy").order_by("id")
    assert [e.action for e in entries] == [
        "sla_policy.create",
        "sla_policy.update",
        "sla_policy.delete",
    ]
    assert entries[1].changes == {"first_response_minutes": {"before": 30, "after": 45}}


@pytest.mark.django_db
def test_a_tier_has_one_policy(admin_user: User) -> None:
    sla_policy_create(actor=admin_user, name="Default")
    gold = sla_policy_create(actor=admin_user, name="Gold", tier="Gold")
    with pytest.raises(Conflict):
        sla_policy_create(actor=admin_user, name="Another default")
    with pytest.raises(Conflict):
        sla_policy_update(actor=admin_user, policy=gold, tier="")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "X", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "X", "weekdays": []}, "weekdays"),
        ({"name": "X", "weekdays": [7]}, "weekdays"),
        ({"name": "X", "day_start": "18:00", "day_end": "09:00"}, "day_end"),
        ({"name": "X", "first_response_minutes": 0}, "first_response_minutes"),
        ({"name": "X", "resolution_minutes": 10**9}, "resolution_minutes"),
        ({"name": "X", "day_start": "nine"}, "day_start"),
    ],
)
def test_a_bad_policy_is_refused_and_names_its_field(
    admin_user: User, values: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        sla_policy_create(actor=admin_user, **values)
    assert error.value.field == field
    assert not SlaPolicy.objects.exists()


@pytest.mark.django_db
def test_a_24_7_policy_needs_no_working_days(admin_user: User) -> None:
    policy = sla_policy_create(actor=admin_user, name="Always", always_on=True, weekdays=[])
    assert policy.always_on and policy.weekdays == []

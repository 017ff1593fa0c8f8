"""The directory's cells: values shown as everywhere else, every column rendered."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from rapport.accounts.services import account_record_crm_sync
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.services_fields import account_set_field_values
from rapport.accounts.tests.factories import make_account, make_channel, make_field
from rapport.core.templatetags.display import when
from rapport.directory.columns import directory_columns_available
from rapport.directory.templatetags.directory_cells import DirectoryCells, _count
from rapport.directory.tests.kit import LIST, page_text
from rapport.users.models import User

MOMENTS = [
    datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.UTC),
    datetime.datetime(2026, 3, 29, 0, 59, tzinfo=datetime.UTC),  # a DST change in Europe
    datetime.datetime(2026, 3, 29, 1, 0, tzinfo=datetime.UTC),
    datetime.datetime(2026, 11, 1, 5, 30, tzinfo=datetime.UTC),  # one in the US
    datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),
    datetime.datetime(207, 5, 9, 13, 7, tzinfo=datetime.UTC),  # a year below 1000
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_dates_and_times_read_as_everywhere_else(zone: str, language: str) -> None:
    with timezone.override(zone), translation.override(language):
        cells = DirectoryCells(is_admin=False)
        for moment in MOMENTS:
            assert cells.time(moment) == when(moment)
            assert cells.date(moment.date()) == when(moment.date())
        for month in range(1, 13):
            day = datetime.date(2026, month, 9)
            assert cells.date(day) == when(day)
        assert cells.time(None) == cells.date(None) == ""


@pytest.mark.parametrize("number", [0, 7, 999, 1000, 12345, 1234567])
@pytest.mark.parametrize("language", ["en", "de"])
def test_counts_read_as_intcomma_writes_them(number: int, language: str) -> None:
    with translation.override(language):
        assert _count(number) == intcomma(number)


@pytest.mark.django_db
def test_every_column_shows_its_value(admin_client: Client, admin_user: User) -> None:
    make_field("seats", type="number")
    make_field("renewal", type="date")
    make_field("plan", type="text")
    account = make_account(
        'Tom & "Jerry" <Co>',
        domain="tom.example",
        secondary_domains=["bücher.example"],
        crm_id="HS-7",
        owner=admin_user,
        status="at_risk",
        source="api",
        industry="Retail",
        employee_count=1200,
        arr=Decimal("120000.00"),
        close_date=datetime.date(2026, 3, 5),
        tier="gold",
    )
    account_record_crm_sync(account=account, ok=False, error="Boom <500>")
    account_set_field_values(
        actor=None,
        account=account,
        values={"seats": "1250.5", "renewal": "2027-01-31", "plan": "Pro & more"},
    )
    contact_add_to_account(account=account, email="ann@tom.example", name="Ann")
    make_channel("tom-support", accounts=[account])
    columns = [c.key for c in directory_columns_available()]
    admin_client.post(reverse("accounts:columns"), {"columns": columns})

    text = page_text(admin_client.get(LIST))
    row = re.search(r"<tr><td.*?</tr>", text, re.S)
    assert row is not None
    cells = row.group(0)
    for shown in (
        "Tom &amp; &quot;Jerry&quot; &lt;Co&gt;",
        'title="ann@tom.example">Ann</span>',
        "tom.example",
        "bücher.example",
        "#tom-support",
        "Ada Admin",
        "HS-7",
        'class="badge crm-failing" title="Sync failing: Boom &lt;500&gt; (last attempt: ',
        'class="badge status-at_risk">At risk</span>',
        ">API<",
        ">Retail<",
        ">1,200<",
        ">120,000<",
        ">Mar 5, 2026<",
        when(account.created_at.date()),
        ">gold<",
        ">1,250.5<",
        ">2027-01-31<",
        ">Pro &amp; more<",
    ):
        assert shown in cells, shown
    # No request figures yet: those cells are empty, not zero.
    assert cells.count('<span class="empty">—</span>') >= 7

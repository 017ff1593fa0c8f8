"""The directory's reads: its rows, their related rows, the header totals and the options."""

from collections.abc import Callable
from typing import Any

import pytest

from rapport.accounts.selectors import account_owner_choices, field_definitions
from rapport.accounts.services import account_record_crm_sync
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.services_fields import account_set_field_values
from rapport.accounts.tests.factories import make_account, make_channel, make_field
from rapport.directory import selectors
from rapport.directory.columns import directory_columns_available
from rapport.directory.filters import AccountFilterSet
from rapport.users.models import User
from rapport.users.services import member_update

pytestmark = pytest.mark.django_db


def _page(params: dict[str, str] | None = None, *keys: str) -> Any:
    fields = field_definitions()
    by_key = {c.key: c for c in directory_columns_available(fields)}
    columns = [by_key[k] for k in ("name", *keys)]
    filters = AccountFilterSet.from_params(params or {}, fields)
    return selectors.directory_page(filters, columns, limit=50, offset=0)


def test_a_row_lists_the_first_three_contacts_by_name() -> None:
    account = make_account("Acme", domain="acme.example")
    for name in ("Dora", "Bob", "Eve", "Alice", "Carl"):
        contact_add_to_account(account=account, email=f"{name.lower()}@acme.example", name=name)
    make_account("Quiet", domain="quiet.example")

    rows = {row["name"]: row for row in _page({}, "contacts").items}
    assert rows["Acme"]["contact_count"] == 5
    assert rows["Acme"]["contacts"] == [
        ("Alice", "alice@acme.example"),
        ("Bob", "bob@acme.example"),
        ("Carl", "carl@acme.example"),
    ]
    assert rows["Quiet"]["contacts"] == []


def test_accounts_with_many_contacts_are_ranked_in_sql_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(3):
        make_account(f"Company {n}", contacts=4 + n)
    read_all = _page({}, "contacts").items
    monkeypatch.setattr(selectors, "CONTACTS_READ_ALL", 0)
    ranked = _page({}, "contacts").items
    assert [row["contacts"] for row in ranked] == [row["contacts"] for row in read_all]
    assert all(len(row["contacts"]) == 3 for row in ranked)


def test_a_row_carries_its_channels_domains_and_field_values_by_column() -> None:
    make_field("seats", type="number")
    make_field("renewal", type="date")
    account = make_account("Acme", domain="acme.example", secondary_domains=["b.example", "a.io"])
    account_set_field_values(
        actor=None, account=account, values={"seats": "1200", "renewal": "2027-01-31"}
    )
    make_channel("zeta", accounts=[account])
    make_channel("alpha", accounts=[account])

    columns = ("slack_channel", "secondary_domains", "field.seats", "field.renewal")
    (row,) = _page({}, *columns).items
    assert [name for name, _ in row["channels"]] == ["alpha", "zeta"]
    assert row["domains"] == ["a.io", "b.example"]
    assert str(row["field.seats"]) == "1200.0000"
    assert row["field.renewal"].isoformat() == "2027-01-31"


def test_a_page_reads_only_what_its_columns_show() -> None:
    make_account("Acme", domain="acme.example", contacts=1)
    (row,) = _page({}).items
    assert set(row) == {"id", "name", "logo"}


def test_the_count_is_the_given_total_unless_filtered() -> None:
    make_account("Acme", domain="acme.example", industry="Retail")
    make_account("Globex", domain="globex.example", industry="Energy")
    fields = field_definitions()
    columns = directory_columns_available(fields)[:1]
    unfiltered = AccountFilterSet.from_params({}, fields)
    page = selectors.directory_page(unfiltered, columns, limit=50, offset=0, count=2)
    assert page.count == 2 and len(page.items) == 2
    assert _page({"industry": "Retail"}).count == 1


def test_directory_totals_count_all_mapped_and_failing_accounts() -> None:
    make_account("Acme", crm_id="C-1")
    failing = make_account("Globex", crm_id="C-2")
    account_record_crm_sync(account=failing, ok=False, error="Boom")
    make_account("Initech")
    assert selectors.directory_totals() == selectors.DirectoryTotals(
        total=3, crm_mapped=2, crm_failing=1
    )


def test_owner_choices_are_the_assignable_members_by_name(
    admin_user: User, make_user: Callable[..., User]
) -> None:
    make_user("zed@example.test", name="Zed")
    make_user("anon@example.test")
    gone = make_user("gone@example.test", name="Gone")
    member_update(actor=admin_user, member=gone, is_active=False)

    expected = [(str(u.pk), u.display_name) for u in account_owner_choices()]
    assert selectors.directory_owner_choices() == expected
    shown = dict(expected).values()
    assert "anon@example.test" in shown and "Zed" in shown and "Gone" not in shown


def test_the_row_of_an_unknown_account_is_none() -> None:
    assert selectors.directory_row_get(987654, directory_columns_available([])[:1]) is None

"""Races on account identity are settled by the database, not by checks in Python.

These tests start real threads with their own database connections, so they need a
server database: SQLite serializes writers and cannot show the race.
"""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from rapport.accounts import services
from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account
from rapport.core.errors import Conflict

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (set DATABASE_URL): SQLite serializes writers, so no race",
    ),
]

THREADS = 8


def race(work: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """Run work(i) in *threads* threads released at the same instant; return results or errors."""
    barrier = threading.Barrier(threads)
    outcomes: list[Any] = [None] * threads

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[i] = exc
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not any(worker.is_alive() for worker in workers)
    return outcomes


def test_concurrent_creates_with_one_primary_domain_make_exactly_one_account() -> None:
    outcomes = race(
        lambda i: services.account_create(
            actor=None, name=f"Racer {i}", primary_domain=f"https://www.RACE.example/{i}"
        )
    )
    winners = [o for o in outcomes if isinstance(o, Account)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1, outcomes
    assert len(losers) == THREADS - 1, outcomes
    [stored] = Account.objects.filter(primary_domain="race.example")
    assert stored.pk == winners[0].pk
    for conflict in losers:
        assert f"“{stored.name}” (id {stored.pk})" in conflict.message
        assert conflict.field == "primary_domain"
    assert Account.objects.count() == 1


def test_concurrent_renames_to_one_primary_domain_leave_it_with_one_account() -> None:
    accounts = [make_account(f"Account {i}", domain=f"a{i}.example") for i in range(THREADS)]
    admin = _admin()
    outcomes = race(
        lambda i: services.account_update(
            actor=admin, account=accounts[i], primary_domain="contested.example"
        )
    )
    winners = [o for o in outcomes if isinstance(o, Account)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if o is not winners[0]), outcomes
    assert Account.objects.filter(primary_domain="contested.example").count() == 1


def test_concurrent_crm_mappings_of_one_company_map_one_account() -> None:
    accounts = [make_account(f"Account {i}") for i in range(THREADS)]
    outcomes = race(
        lambda i: services.account_set_crm_mapping(
            actor=None, account=accounts[i], provider="hubspot", external_id="4242"
        )
    )
    winners = [o for o in outcomes if isinstance(o, Account)]
    assert len(winners) == 1, outcomes
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(conflicts) == THREADS - 1, outcomes
    assert all(f"(id {winners[0].pk})" in c.message for c in conflicts)
    assert Account.objects.filter(crm_external_id="4242").count() == 1


def _admin() -> Any:
    from rapport.users.models import Role
    from rapport.users.services import user_create

    return user_create(email="racer@example.test", password=None, name="Racer", role=Role.ADMIN)

"""The demo workspace loader: logins, a realistic directory, and idempotent re-runs."""

from collections.abc import Iterator
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import Client
from pytest_django import DjangoDbBlocker

from rapport.accounts.models import (
    Account,
    AccountContact,
    AccountDomain,
    Contact,
    CrmSyncStatus,
    FieldDefinition,
    FieldSource,
    FieldValue,
)
from rapport.audit.models import AuditEntry
from rapport.demo.catalog import DEMO_PASSWORD
from rapport.inbox.models import Channel, ChannelAccount
from rapport.users.models import Role, Team, User

COUNTED = (
    User,
    Team,
    FieldDefinition,
    Account,
    AccountDomain,
    Contact,
    AccountContact,
    FieldValue,
    Channel,
    ChannelAccount,
    AuditEntry,
)


def _load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture(scope="module")
def demo_module(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[str]:
    """Load the demo once for this module, inside a transaction rolled back at its end.

    Each test still runs in its own savepoint (the `db` fixture), so a test's writes,
    such as a second load, never leak into the next test.
    """
    with django_db_blocker.unblock():
        block = transaction.atomic()
        block.__enter__()
        try:
            output = _load()
        except BaseException:
            block.__exit__(None, None, None)
            raise
    yield output
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        block.__exit__(None, None, None)


@pytest.fixture
def demo(demo_module: str, db: None) -> str:
    return demo_module


def test_demo_logins_work_with_the_documented_password(demo: str) -> None:
    admin = authenticate(username="admin@example.com", password=DEMO_PASSWORD)
    member = authenticate(username="member@example.com", password=DEMO_PASSWORD)

    assert isinstance(admin, User) and admin.role == Role.ADMIN and admin.is_staff
    assert isinstance(member, User) and member.role == Role.MEMBER and not member.is_staff
    assert authenticate(username="admin@example.com", password="wrong") is None
    assert Client().login(username="member@example.com", password=DEMO_PASSWORD)
    assert "admin@example.com" in demo


def test_demo_has_a_realistic_directory(demo: str) -> None:
    assert Account.objects.count() >= 300
    assert User.objects.count() >= 8
    assert Team.objects.count() >= 2
    assert Account.objects.filter(owner__isnull=True).exists()
    assert Account.objects.values("owner").distinct().count() >= 6
    assert AccountDomain.objects.exists()
    assert not Account.objects.filter(contact_count=0).exists()
    assert Channel.objects.annotate(n=Count("accounts")).filter(n=2).exists()
    # Search text is kept by the services: a contact's email finds its account.
    contact = Contact.objects.first()
    assert contact is not None
    assert Account.objects.filter(search_text__contains=contact.email).exists()


def test_demo_mixes_synced_failing_and_unmapped_crm_links(demo: str) -> None:
    total = Account.objects.count()
    by_status = dict(
        Account.objects.values_list("crm_sync_status").annotate(n=Count("id")).order_by()
    )

    assert 0.45 * total <= by_status[CrmSyncStatus.SYNCED] <= 0.65 * total
    assert 0.05 * total <= by_status[CrmSyncStatus.FAILING] <= 0.15 * total
    assert 0.25 * total <= by_status[CrmSyncStatus.NOT_MAPPED] <= 0.45 * total
    failing = Account.objects.filter(crm_sync_status=CrmSyncStatus.FAILING)
    assert not failing.filter(crm_sync_error="").exists()
    assert not failing.filter(crm_last_synced_at__isnull=True).exists()
    # CRM field values only on mapped accounts; Rapport field values on some accounts.
    assert not FieldValue.objects.filter(
        field__source=FieldSource.CRM, account__crm_sync_status=CrmSyncStatus.NOT_MAPPED
    ).exists()
    assert FieldValue.objects.filter(field__source=FieldSource.RAPPORT).exists()


def test_loading_the_demo_twice_adds_and_changes_nothing(demo: str) -> None:
    before = _row_counts()
    last_update = Account.objects.order_by("-updated_at").values_list("updated_at", flat=True)[0]

    output = _load()

    assert _row_counts() == before
    assert Account.objects.order_by("-updated_at").values_list("updated_at", flat=True)[0] == (
        last_update
    )
    assert "nothing changed" in output


def test_demo_loader_skips_production_installs(db: None, settings: object) -> None:
    settings.PRODUCTION = True  # type: ignore[attr-defined]
    before = _row_counts()

    output = _load()

    assert "Skipped" in output
    assert _row_counts() == before


def test_demo_has_onboardings_under_way(demo: str) -> None:
    from rapport.onboarding.models import HandoffAnswer, Plan, Template
    from rapport.tasks.models import Task

    assert Template.objects.count() == 3
    pending = Plan.objects.filter(account__status="pending_handoff")
    active = Plan.objects.filter(account__status="active")
    assert pending.exists() and active.exists()
    assert not active.filter(account__csm__isnull=True).exists()
    assert User.objects.filter(is_csm=True).count() >= 3
    # Active plans show progress, and the pending ones drafted answers from their notes.
    assert Task.objects.filter(milestone__plan__in=active, status="done").exists()
    assert HandoffAnswer.objects.filter(plan__in=pending).exclude(answer="").exists()

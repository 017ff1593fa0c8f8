"""The audit log: who changed what, when, with the values before and after."""

from collections.abc import Callable
from typing import Any

import pytest

from rapport.accounts.tests.factories import make_account
from rapport.audit.models import AuditEntry
from rapport.audit.selectors import audit_entries_for
from rapport.audit.services import audit_changes, audit_record
from rapport.users.models import User

pytestmark = pytest.mark.django_db


# --- audit_changes -------------------------------------------------------------------------


def test_changes_keep_only_the_fields_that_differ_in_name_order() -> None:
    before = {"name": "Acme", "status": "active", "owner": None, "same": [1, 2]}
    after = {"status": "churned", "name": "Acme", "owner": "Max", "same": [1, 2]}
    changes = audit_changes(before, after)
    assert changes == {
        "owner": {"before": None, "after": "Max"},
        "status": {"before": "active", "after": "churned"},
    }
    assert list(changes) == ["owner", "status"]


def test_a_field_on_one_side_only_shows_none_on_the_other() -> None:
    assert audit_changes({}, {"name": "Acme"}) == {"name": {"before": None, "after": "Acme"}}
    assert audit_changes({"name": "Acme"}, {}) == {"name": {"before": "Acme", "after": None}}


def test_equal_values_make_no_changes() -> None:
    assert audit_changes({"a": 1, "b": "x"}, {"b": "x", "a": 1}) == {}
    assert audit_changes({}, {}) == {}


# --- audit_record --------------------------------------------------------------------------


def test_an_entry_records_actor_action_object_and_changes(admin_user: User) -> None:
    account = make_account("Acme")
    entry = audit_record(
        actor=admin_user,
        action="account.update",
        obj=account,
        changes={"name": {"before": "Old", "after": "Acme"}},
    )
    assert entry is not None
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.actor == admin_user
    assert stored.actor_label == "Ada Admin"
    assert stored.action == "account.update"
    assert (stored.object_type, stored.object_id, stored.object_label) == (
        "accounts.account",
        str(account.pk),
        "Acme",
    )
    assert stored.changes == {"name": {"before": "Old", "after": "Acme"}}
    assert stored.created_at is not None
    assert str(stored) == f"Ada Admin account.update accounts.account:{account.pk}"


def test_nothing_is_recorded_when_nothing_changed(admin_user: User) -> None:
    account = make_account("Acme")
    before = AuditEntry.objects.count()
    assert audit_record(actor=admin_user, action="account.update", obj=account, changes={}) is None
    assert AuditEntry.objects.count() == before


def test_an_entry_without_a_person_names_the_system_or_the_given_actor(db: None) -> None:
    account = make_account("Acme")
    change = {"x": {"before": 1, "after": 2}}
    system = audit_record(actor=None, action="a", obj=account, changes=change)
    crm = audit_record(actor=None, actor_label="CRM sync", action="a", obj=account, changes=change)
    assert system is not None and crm is not None
    assert (system.actor_label, crm.actor_label) == ("system", "CRM sync")


def test_a_member_without_a_name_is_recorded_by_email(make_user: Callable[..., User]) -> None:
    user = make_user("nameless@example.test")
    account = make_account("Acme")
    entry = audit_record(
        actor=user, action="a", obj=account, changes={"x": {"before": 1, "after": 2}}
    )
    assert entry is not None
    assert entry.actor_label == "nameless@example.test"


def test_an_entry_outlives_its_actor_and_keeps_their_name(make_user: Callable[..., User]) -> None:
    user = make_user("leaver@example.test", name="Lee Leaver")
    account = make_account("Acme")
    entry = audit_record(
        actor=user, action="a", obj=account, changes={"x": {"before": 1, "after": 2}}
    )
    assert entry is not None
    user.delete()
    entry.refresh_from_db()
    assert entry.actor is None
    assert entry.actor_label == "Lee Leaver"


def test_a_long_object_name_is_cut_to_fit(admin_user: User) -> None:
    account = make_account("A" * 200)
    account.name = "B" * 300  # as str(obj) may be longer than the column
    entry = audit_record(
        actor=admin_user, action="a", obj=account, changes={"x": {"before": 1, "after": 2}}
    )
    assert entry is not None
    entry.refresh_from_db()
    assert entry.object_label == "B" * 200


# --- audit_entries_for ---------------------------------------------------------------------


def test_an_objects_history_is_newest_first_and_only_its_own(admin_user: User) -> None:
    acme = make_account("Acme")
    globex = make_account("Globex")
    for i in range(3):
        audit_record(
            actor=admin_user,
            action=f"step.{i}",
            obj=acme,
            changes={"i": {"before": i, "after": i + 1}},
        )
    audit_record(
        actor=admin_user, action="other", obj=globex, changes={"i": {"before": 0, "after": 1}}
    )
    actions = [e.action for e in audit_entries_for(acme)]
    assert actions == ["step.2", "step.1", "step.0", "account.create"]
    assert [e.action for e in audit_entries_for(acme, limit=2)] == ["step.2", "step.1"]


def test_reading_a_history_fetches_actors_in_the_same_query(
    admin_user: User, django_assert_num_queries: Callable[..., Any]
) -> None:
    acme = make_account("Acme")
    for i in range(5):
        audit_record(
            actor=admin_user, action="a", obj=acme, changes={"i": {"before": i, "after": i + 1}}
        )
    with django_assert_num_queries(1):
        names = [e.actor.display_name for e in audit_entries_for(acme) if e.actor]
    assert names == ["Ada Admin"] * 5

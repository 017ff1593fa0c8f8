"""Imports services: the preview's outcomes, the bulk run, its progress and failures."""

import datetime
from typing import Any

import pytest
from django.db.models import Model
from django.forms.models import model_to_dict

from rapport.accounts.models import Account, AccountDomain, AccountStatus, Contact
from rapport.accounts.tests.factories import make_account
from rapport.audit.models import AuditEntry
from rapport.core.errors import Conflict, InvalidInput
from rapport.imports import bulk, services
from rapport.imports.models import Import, ImportRow, ImportStatus
from rapport.imports.services import import_confirm, import_resume, import_run
from rapport.imports.tests.factories import csv_bytes, csv_row, make_import, make_preview
from rapport.onboarding.links import link_open
from rapport.onboarding.models import AccessLink, HandoffAnswer, LinkKind, Plan, PlanMilestone
from rapport.onboarding.tests.factories import make_onboarding
from rapport.outbox.models import OutboxItem
from rapport.tasks.models import Task
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def _outcomes(upload: Any) -> list[tuple[int, str]]:
    return list(upload.rows.order_by("id").values_list("line", "outcome"))


def _company(n: int, **overrides: Any) -> dict[str, str]:
    values = {"company_name": f"Company {n}", "primary_contact_email": f"lead@company{n}.example"}
    return csv_row(**(values | overrides))


# --- the preview ---------------------------------------------------------------------------


def test_the_preview_says_what_each_row_would_do_and_writes_no_account(member_user: User) -> None:
    make_account("Known Ltd", domain="known.example", industry="Retail")
    onboarding = make_onboarding(member_user, company_name="Busy Inc")  # acme.example
    rows = [
        _company(1),
        csv_row(company_name="Known Ltd", primary_contact_email="a@known.example", industry="Food"),
        csv_row(company_name="Busy Inc", primary_contact_email="x@acme.example"),
        _company(4, arr="lots"),
    ]
    accounts_before = Account.objects.count()
    upload = make_preview(member_user, rows)
    assert upload.status == ImportStatus.PREVIEWED
    assert _outcomes(upload) == [(2, "create"), (3, "update"), (4, "skip"), (5, "error")]
    assert (upload.creates, upload.updates, upload.skips, upload.errors) == (1, 1, 1, 1)
    update, skip, error = list(upload.rows.order_by("id"))[1:]
    # An update fills only the fields the account has empty: its industry stays.
    assert update.fields == ["arr", "close_date", "notes"]
    assert skip.reason == (
        f"The account “Busy Inc” (id {onboarding.account_id}) has an onboarding plan already."
    )
    assert "arr" in error.errors
    assert Account.objects.count() == accounts_before
    assert not Plan.objects.exclude(pk=onboarding.pk).exists()


def test_an_account_is_found_by_its_secondary_domain_too(member_user: User) -> None:
    account = make_account("Parent Co", domain="parent.example")
    AccountDomain.objects.create(account=account, domain="child.example")
    upload = make_preview(member_user, [csv_row(primary_contact_email="kim@child.example")])
    [row] = upload.rows.all()
    assert (row.outcome, row.account_id) == ("update", account.pk)


def test_duplicates_within_the_file_are_errors_naming_the_first_line(member_user: User) -> None:
    rows = [
        _company(1),
        _company(2, primary_contact_email="other@company1.example"),
        csv_row(company_name="Solo", primary_contact_email="solo@gmail.com"),
        csv_row(company_name="SOLO.", primary_contact_email="solo2@gmail.com"),
    ]
    upload = make_preview(member_user, rows)
    assert _outcomes(upload) == [(2, "create"), (3, "error"), (4, "create"), (5, "error")]
    errors = [row.errors for row in upload.rows.order_by("id") if row.errors]
    assert errors[0] == {
        "primary_contact_email": "Duplicate of line 2 (same domain company1.example)."
    }
    assert "Duplicate of line 4" in errors[1]["company_name"]


def test_two_rows_finding_one_existing_account_leave_the_second_as_an_error(
    member_user: User,
) -> None:
    account = make_account("Parent Co", domain="parent.example")
    AccountDomain.objects.create(account=account, domain="child.example")
    rows = [
        csv_row(primary_contact_email="a@parent.example"),
        csv_row(company_name="Child", primary_contact_email="b@child.example"),
    ]
    upload = make_preview(member_user, rows)
    assert _outcomes(upload) == [(2, "update"), (3, "error")]


def test_ambiguous_dates_are_errors_unless_an_order_is_chosen(member_user: User) -> None:
    rows = [_company(1, close_date="03/04/2026")]
    assert _outcomes(make_preview(member_user, rows)) == [(2, "error")]
    upload = make_preview(member_user, rows, date_order="day_first")
    [row] = upload.rows.all()
    assert row.outcome == "create" and row.values["close_date"] == "2026-04-03"


def test_a_template_matches_by_unique_prefix_and_a_default_fills_blanks(member_user: User) -> None:
    rows = [_company(1, template_name="enterprise"), _company(2, template_name="")]
    upload = make_preview(member_user, rows, template="Quick Start")
    assert _outcomes(upload) == [(2, "create"), (3, "create")]
    upload = make_preview(member_user, rows)
    [_, blank] = upload.rows.order_by("id")
    assert "template_name" in blank.errors


def test_a_file_without_the_columns_is_refused_and_nothing_stored(member_user: User) -> None:
    make_preview(member_user, [_company(1)])
    before = ImportRow.objects.count()
    with pytest.raises(InvalidInput, match="no column for: arr"):
        services.import_preview(
            actor=member_user, data=csv_bytes([{"company_name": "A"}], columns=["company_name"])
        )
    assert ImportRow.objects.count() == before


def test_a_file_over_the_row_limit_is_refused_and_leaves_nothing(
    member_user: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rows are stored a chunk at a time as they are read: the refusal, known only at the
    # end, takes the chunks already stored away again.
    monkeypatch.setattr(services, "INSERT_BATCH", 1)
    settings.IMPORT_MAX_ROWS = 2
    with pytest.raises(InvalidInput, match="at most 2"):
        make_preview(member_user, [_company(n) for n in range(3)])
    assert not Import.objects.exists() and not ImportRow.objects.exists()


def test_a_preview_stored_in_chunks_counts_and_plans_every_row(
    member_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "INSERT_BATCH", 2)
    make_account("Known Ltd", domain="company3.example")
    rows = [_company(n) for n in range(5)] + [
        _company(9, primary_contact_email="x@company0.example")
    ]
    upload = make_preview(member_user, rows)
    assert upload.status == ImportStatus.PREVIEWED
    assert (upload.total, upload.creates, upload.updates, upload.errors) == (6, 4, 1, 1)
    # The duplicate of line 2 is found across chunks, and so is the known account.
    assert _outcomes(upload)[-1] == (7, "error")


def test_only_members_can_import() -> None:
    with pytest.raises(Exception, match="Log in"):
        services.import_preview(actor=None, data=csv_bytes([csv_row()]))


# --- the run -------------------------------------------------------------------------------

_IGNORED = {
    "id",
    "created_at",
    "updated_at",
    "account",
    "account_id",
    "plan",
    "milestone",
    "digest",
}


def _fields(obj: Model, *ignored: str) -> dict[str, Any]:
    data = model_to_dict(obj)
    data.update({f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields})
    return {k: v for k, v in data.items() if k not in _IGNORED and k not in ignored}


def _account_made(account: Account) -> dict[str, Any]:
    """Return everything onboarding wrote for *account*, with ids and times left out."""
    account.refresh_from_db()
    plan = Plan.objects.get(account=account)
    milestones = list(PlanMilestone.objects.filter(plan=plan).order_by("position"))
    link = AccessLink.objects.get(account=account)
    [email] = OutboxItem.objects.filter(key=f"handoff:{plan.pk}:0")
    token = email.payload["body"].split("/handoff/", 1)[1].split("/", 1)[0]
    assert link_open(token, LinkKind.HANDOFF).account == account
    audit = AuditEntry.objects.filter(
        object_type="accounts.account", object_id=str(account.pk)
    ).order_by("id")
    contact = Contact.objects.get(accounts=account)
    return {
        "account": _fields(account, "primary_domain", "search_text"),
        "contact": _fields(contact, "email", "accounts"),
        "plan": _fields(plan, "primary_contact", "primary_contact_id", "source", "template"),
        "milestones": [_fields(m, "plan_id") for m in milestones],
        "tasks": [
            _fields(t, "account_id", "milestone_id")
            for t in Task.objects.filter(account=account).order_by(
                "milestone__position", "position"
            )
        ],
        "answers": [
            _fields(a, "plan_id")
            for a in HandoffAnswer.objects.filter(plan=plan).order_by("position")
        ],
        "link": _fields(link, "account_id", "expires_at"),
        "link_expires": link.expires_at.date() if link.expires_at else None,
        "email": {**email.payload, "body": email.payload["body"].replace(token, "TOKEN")},
        "email_status": (email.action, email.status, email.attempts),
        "audit": [
            (e.action, e.actor_id, e.actor_label, e.object_type, e.object_label, e.changes)
            for e in audit
        ],
    }


def _replaced(value: Any, old: str, new: str) -> Any:
    """Return *value* with *old* replaced by *new* in every string inside it."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {key: _replaced(item, old, new) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_replaced(item, old, new) for item in value)
    return value


def test_an_imported_account_is_what_onboarding_create_makes(member_user: User) -> None:
    values = {
        "company_name": "Same Corp",
        "arr": "1200000",
        "close_date": "2026-11-20",
        "primary_contact_name": "Jane Smith",
        "primary_contact_role": "IT Director",
        "ae_email": "ae@rapport.example",
        "industry": "Logistics",
        "website": "",
    }
    by_hand = make_onboarding(
        member_user,
        primary_contact_email="jane@byhand.example",
        template="Standard SaaS Onboarding",
        notes=csv_row()["notes"],
        raw_payload=csv_row()["notes"],
        **values,
    ).account
    upload = make_import(
        member_user,
        [
            csv_row(
                **values
                | {
                    "primary_contact_email": "jane@imported.example",
                    "template_name": "standard saas",
                    "arr": "$1,200,000",
                }
            )
        ],
    )
    assert upload.status == ImportStatus.DONE
    [row] = upload.rows.all()
    assert row.account_id is not None
    imported = Account.objects.get(pk=row.account_id)
    assert imported.source == "import" and by_hand.source == "manual"
    by_hand_made = _account_made(by_hand)
    imported_made = _account_made(imported)
    assert imported_made["plan"]["raw_payload"]
    assert any(answer["citation"] for answer in imported_made["answers"])
    by_hand_made["account"]["source"] = "import"
    imported_made = _replaced(imported_made, "imported.example", "X")
    by_hand_made = _replaced(by_hand_made, "byhand.example", "X")
    for part, expected in by_hand_made.items():
        got = imported_made[part]
        if isinstance(expected, dict):
            differing = {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
            assert (part, differing) == (part, {})
        assert (part, got) == (part, expected)
    assert imported.search_text == "same corp imported.example jane@imported.example"
    assert imported.contact_count == 1


def test_importing_onboards_an_existing_account_filling_only_empty_fields(
    member_user: User,
) -> None:
    existing = make_account("Acme (old name)", domain="acme.example", industry="Retail")
    upload = make_import(member_user, [csv_row(industry="Manufacturing")])
    [row] = upload.rows.all()
    assert (row.outcome, row.account_id) == ("update", existing.pk)
    existing.refresh_from_db()
    assert existing.status == AccountStatus.PENDING_HANDOFF
    assert existing.industry == "Retail" and str(existing.arr) == "50000.00"
    assert Plan.objects.filter(account=existing).exists()
    entry = AuditEntry.objects.filter(action="account.update", object_id=str(existing.pk)).get()
    assert entry.changes["status"] == {"before": "none", "after": "pending_handoff"}
    assert "industry" not in entry.changes and entry.changes["arr"]["after"] == "50000.00"
    [email] = OutboxItem.objects.filter(key__startswith="handoff:")
    assert "Acme (old name)" in email.payload["subject"]


def test_rows_with_errors_are_never_written(member_user: User) -> None:
    upload = make_import(member_user, [_company(1), _company(2, ae_email="nobody")])
    assert _outcomes(upload) == [(2, "create"), (3, "error")]
    assert list(Account.objects.values_list("name", flat=True)) == ["Company 1"]
    assert OutboxItem.objects.count() == 1


def test_a_row_whose_account_was_onboarded_since_the_preview_is_skipped(
    member_user: User,
) -> None:
    upload = make_preview(member_user, [csv_row(), _company(2)])
    make_onboarding(member_user)  # acme.example, between the preview and the confirm
    import_confirm(actor=member_user, upload=upload)
    upload = import_run(upload.pk)
    assert upload.status == ImportStatus.DONE
    assert _outcomes(upload) == [(2, "skip"), (3, "create")]
    assert (upload.creates, upload.skips) == (1, 1)


def test_progress_moves_chunk_by_chunk_and_ends_done(
    member_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "CHUNK_ROWS", 2)
    seen: list[int] = []
    real = bulk.chunk_write

    def counting(ctx: Any, rows: Any, **options: Any) -> Any:
        seen.append(ctx.upload.__class__.objects.get(pk=ctx.upload.pk).rows_done)
        return real(ctx, rows, **options)

    monkeypatch.setattr(services, "chunk_write", counting)
    upload = make_preview(member_user, [_company(n) for n in range(5)])
    assert upload.percent == 0
    import_confirm(actor=member_user, upload=upload)
    upload.refresh_from_db()
    assert (upload.status, upload.rows_to_write) == (ImportStatus.RUNNING, 5)
    upload = import_run(upload.pk)
    assert seen == [0, 2, 4]
    assert (upload.status, upload.rows_done, upload.percent) == (ImportStatus.DONE, 5, 100)
    assert upload.finished_at is not None
    assert Plan.objects.count() == 5


def test_a_second_confirm_is_refused(member_user: User) -> None:
    upload = make_preview(member_user, [_company(1)])
    import_confirm(actor=member_user, upload=upload)
    with pytest.raises(Conflict, match="confirmed already; it is running"):
        import_confirm(actor=member_user, upload=upload)
    import_run(upload.pk)
    with pytest.raises(Conflict, match="it is done"):
        import_confirm(actor=member_user, upload=upload)
    assert Plan.objects.count() == 1


def test_a_failing_chunk_marks_the_import_failed_and_resume_finishes_it(
    member_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "CHUNK_ROWS", 2)
    real = bulk._links_and_emails_write
    calls = {"n": 0}

    def failing(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        real(*args)

    monkeypatch.setattr(bulk, "_links_and_emails_write", failing)
    upload = make_import(member_user, [_company(n) for n in range(5)])
    assert upload.status == ImportStatus.FAILED
    assert upload.error == "RuntimeError: disk full"
    # The first chunk stays, whole and listed; the failed one left nothing behind.
    assert upload.rows_done == 2
    written = list(upload.rows.filter(written=True).values_list("line", flat=True))
    assert written == [2, 3]
    assert Account.objects.count() == Plan.objects.count() == OutboxItem.objects.count() == 2
    assert set(Account.objects.values_list("pk", flat=True)) == set(
        upload.rows.filter(written=True).values_list("account_id", flat=True)
    )
    with pytest.raises(Conflict):
        import_confirm(actor=member_user, upload=upload)
    import_resume(actor=member_user, upload=upload)
    upload = import_run(upload.pk)
    assert (upload.status, upload.rows_done, upload.error) == (ImportStatus.DONE, 5, "")
    assert Account.objects.count() == Plan.objects.count() == OutboxItem.objects.count() == 5


def test_a_running_import_is_resumed_only_once_it_stalled(member_user: User) -> None:
    upload = make_preview(member_user, [_company(1)])
    import_confirm(actor=member_user, upload=upload)
    with pytest.raises(Conflict, match="Only a failed or stalled import"):
        import_resume(actor=member_user, upload=upload)
    stale = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    type(upload).objects.filter(pk=upload.pk).update(updated_at=stale)
    import_resume(actor=member_user, upload=upload)
    assert import_run(upload.pk).status == ImportStatus.DONE


def test_a_large_run_drafts_in_a_second_process_with_the_same_answers(
    member_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool (a spawned process) drafts what drafting inline would, row for row."""
    from rapport.imports import drafting_pool

    notes = "They are replacing Legacy Desk. Go-live target is 2027-03-01. SSO is required."
    rows = [{**_company(n), "notes": notes if n % 2 else ""} for n in range(6)]

    def run(pool_min_rows: int) -> list[tuple[str, str, str, str]]:
        monkeypatch.setattr(drafting_pool, "POOL_MIN_ROWS", pool_min_rows)
        monkeypatch.setattr(services, "CHUNK_ROWS", 2)
        upload = make_preview(member_user, rows)
        import_confirm(actor=member_user, upload=upload)
        assert import_run(upload.pk).status == ImportStatus.DONE
        answers = HandoffAnswer.objects.filter(plan__account__name__startswith="Company ")
        found = sorted(
            (a.plan.account.name, a.key, a.answer, a.citation)
            for a in answers.select_related("plan__account")
        )
        Account.objects.filter(name__startswith="Company ").delete()
        return found

    inline = run(pool_min_rows=10**9)
    pooled = run(pool_min_rows=1)
    assert pooled == inline
    assert any(answer for _, _, answer, _ in pooled)


@pytest.mark.django_db(transaction=True)
def test_a_run_outside_a_transaction_leaves_foreign_key_checks_on(member_user: User) -> None:
    """The worker runs an import outside any transaction: SQLite skips the per-row checks
    for each chunk, and the connection checks again afterwards."""
    from django.db import connection

    upload = make_preview(member_user, [_company(n) for n in range(3)])
    import_confirm(actor=member_user, upload=upload)
    assert import_run(upload.pk).status == ImportStatus.DONE
    assert Plan.objects.count() == 3
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1

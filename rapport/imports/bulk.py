"""Onboard a chunk of an upload's rows in one short transaction, with bulk inserts.

Each row ends as `onboarding_create` would leave it: the account (created, or an
existing one put into onboarding with its empty fields filled), the primary contact,
the plan with its template snapshot, milestones with due dates, tasks and drafted
answers, the AE's handoff link and email, and the same audit entries. Only the way of
writing differs: one statement per table per chunk instead of one per row, with the
keys of the parent rows reserved up front so child rows can point at them.

`tests/test_services.py` compares an imported account with one made by
`onboarding_create`, table by table; a change to what onboarding writes shows there.
"""

import datetime
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import (
    Account,
    AccountContact,
    AccountSource,
    AccountStatus,
    Contact,
    ContactKind,
)
from rapport.accounts.services import account_contacts_counted, account_search_text
from rapport.accounts.services_contacts import (
    ContactLink,
    contact_normalize_email,
    contacts_by_email,
)
from rapport.audit.models import AuditEntry
from rapport.imports.inserts import RowsInsert, ids_reserve, value_adapt
from rapport.imports.models import Import, ImportRow, RowOutcome
from rapport.imports.preview import Existing, accounts_existing, row_plan
from rapport.onboarding.content import questions_of
from rapport.onboarding.links import link_url
from rapport.onboarding.models import (
    AccessLink,
    AnswerSource,
    HandoffAnswer,
    LinkKind,
    Plan,
    PlanMilestone,
    PlanSource,
    TemplateVersion,
)
from rapport.onboarding.notices import handoff_email_content
from rapport.onboarding.questions import Draft, Question
from rapport.onboarding.services import answers_drafted, milestone_due_dates
from rapport.outbox.models import OutboxItem
from rapport.outbox.services import outbox_deliver_after_commit
from rapport.tasks.models import Task, TaskSource
from rapport.users.models import User

ACCOUNT_TYPE = Account._meta.label_lower
_TOKEN_MARK = "TOKEN"  # noqa: S105 - a placeholder in the link, replaced by each token


@dataclass
class VersionData:
    """A template version as every plan of the run copies it, adapted for the database once."""

    version: TemplateVersion
    milestones_json: Any
    questions_json: Any
    questions: list[Question]
    # (position, name, description, owner_role, due date)
    milestones: list[tuple[Any, ...]]
    # (milestone index, title, owner_role, due date, visible, completable, position)
    tasks: list[tuple[Any, ...]]
    keys: list[str]

    @classmethod
    def of(cls, version: TemplateVersion, start: datetime.date) -> "VersionData":
        dues = [
            value_adapt(PlanMilestone, "due_date", due)
            for due in milestone_due_dates(version.milestones, start)
        ]
        milestones = [
            (position, data["name"], data["description"], data["owner_role"], dues[position])
            for position, data in enumerate(version.milestones)
        ]
        tasks = [
            (
                index,
                task["title"],
                "customer" if task["customer_completable"] else data["owner_role"],
                dues[index],
                task["customer_visible"],
                task["customer_completable"],
                position,
            )
            for index, data in enumerate(version.milestones)
            for position, task in enumerate(data["tasks"])
        ]
        questions = questions_of(version.questions)
        return cls(
            version=version,
            milestones_json=value_adapt(Plan, "milestones", version.milestones),
            questions_json=value_adapt(Plan, "questions", version.questions),
            questions=questions,
            milestones=milestones,
            tasks=tasks,
            keys=[question.key for question in questions],
        )


@dataclass
class RunContext:
    """What every chunk of one run shares: who confirmed, when, the template versions."""

    upload: Import
    actor: User | None
    versions: dict[int, VersionData]
    today: datetime.date
    now: datetime.datetime
    link_days: int
    link_pattern: str = field(init=False)

    def __post_init__(self) -> None:
        self.link_pattern = link_url(LinkKind.HANDOFF, _TOKEN_MARK)


@dataclass(slots=True)
class _Row:
    """A row being written: the stored row, its account and what it becomes."""

    stored: ImportRow
    values: dict[str, Any]
    outcome: str = RowOutcome.CREATE
    reason: str = ""
    fields: list[str] = field(default_factory=list)
    account_id: int = 0
    account_name: str = ""
    account_status: str = ""
    contact_id: int | None = None
    plan_id: int = 0


def _answers(
    version: VersionData, notes: str, drafted: dict[str, Draft] | None
) -> list[tuple[str, str, str, str]] | None:
    """Return the drafted (key, answer, citation, source) per question, None without notes.

    *drafted* is the drafter's output when it ran elsewhere (`drafting_pool`); else the
    row is drafted here. Rows without notes skip drafting: every answer is empty, as
    `onboarding_create` leaves them.
    """
    if not notes.strip():
        return None
    if drafted is None:
        return [
            (answer.key, answer.answer, answer.citation, str(answer.source))
            for answer in answers_drafted(version.questions, notes)
        ]
    rows = []
    for question in version.questions:
        draft = drafted.get(question.key)
        answer = draft.answer if draft else ""
        citation = draft.citation if draft and answer else ""
        source = AnswerSource.OFFLINE if answer else AnswerSource.NONE
        rows.append((question.key, answer, citation, str(source)))
    return rows


def _email(ctx: RunContext, company: str, template_name: str, raw: str) -> tuple[str, str]:
    """Return the subject and body of the AE's handoff email, as `onboarding_create` sends it."""
    return handoff_email_content(
        company=company,
        template_name=template_name,
        url=ctx.link_pattern.replace(_TOKEN_MARK, raw),
    )


def _contact_email(email: str) -> str:
    """Return the contact's address as `contact_add_to_account` stores it, cheaply when plain."""
    host = email.rpartition("@")[2]
    if email.isascii() and not host.startswith("www.") and not host.endswith("."):
        return email.lower()
    return contact_normalize_email(email)


def chunk_write(
    ctx: RunContext,
    stored: Sequence[ImportRow],
    *,
    drafted: dict[int, dict[str, Draft]] | None = None,
) -> dict[str, int]:
    """Onboard the rows *stored* (creates and updates) in one transaction.

    *drafted* holds the rows' drafted answers by row id when they were drafted ahead.

    Return how many rows ended as each outcome. The account each row finds is looked up
    again: one made or onboarded since the preview turns a create into an update, or an
    update into a skip.
    """
    rows = [_Row(stored=row, values=row.values) for row in stored]
    drafts = {
        row.stored.pk: _answers(
            ctx.versions[row.values["template_id"]],
            row.values.get("notes") or "",
            None if drafted is None else drafted.get(row.stored.pk, {}),
        )
        for row in rows
    }
    tokens = {row.stored.pk: secrets.token_urlsafe(32) for row in rows}
    with transaction.atomic():
        existing = accounts_existing(row.stored.domain for row in rows if row.stored.domain)
        _outcomes_settle(rows, existing)
        live = [row for row in rows if row.outcome != RowOutcome.SKIP]
        _accounts_create(ctx, [row for row in live if row.outcome == RowOutcome.CREATE])
        _accounts_onboard(ctx, [row for row in live if row.outcome == RowOutcome.UPDATE])
        new_pairs = _contacts_link(live)
        _plans_write(ctx, live, drafts)
        _links_and_emails_write(ctx, live, tokens)
        _audit_write(ctx, live, new_pairs)
        _rows_mark(rows)
        counts: dict[str, int] = {
            outcome: sum(1 for row in rows if row.outcome == outcome)
            for outcome in (RowOutcome.CREATE, RowOutcome.UPDATE, RowOutcome.SKIP)
        }
        previewed = {
            outcome: sum(1 for row in rows if row.stored.outcome == outcome)
            for outcome in (RowOutcome.CREATE, RowOutcome.UPDATE)
        }
        Import.objects.filter(pk=ctx.upload.pk).update(
            rows_done=F("rows_done") + len(rows),
            creates=F("creates") + counts[RowOutcome.CREATE] - previewed[RowOutcome.CREATE],
            updates=F("updates") + counts[RowOutcome.UPDATE] - previewed[RowOutcome.UPDATE],
            skips=F("skips") + counts[RowOutcome.SKIP],
            updated_at=ctx.now,
        )
    return counts


def _outcomes_settle(rows: list[_Row], existing: dict[str, Existing]) -> None:
    claimed: set[int] = set()
    for row in rows:
        found = existing.get(row.stored.domain) if row.stored.domain else None
        if found is not None and found.pk in claimed:
            found = Existing(found.pk, found.name, found.filled, has_plan=True)
        plan = row_plan(row.values, {}, found)
        row.outcome, row.reason, row.fields = plan.outcome, plan.reason, plan.fields
        if found is not None:
            row.account_id, row.account_name = found.pk, found.name
            claimed.add(found.pk)


def _accounts_create(ctx: RunContext, rows: list[_Row]) -> None:
    if not rows:
        return
    insert = RowsInsert(
        Account,
        (
            "id",
            "name",
            "primary_domain",
            "source",
            "status",
            "industry",
            "company_size",
            "arr",
            "close_date",
            "website",
            "notes",
            "search_text",
        ),
        now=ctx.now,
    )
    values = []
    ops = connection.ops
    for row, pk in zip(rows, ids_reserve(Account, len(rows)), strict=True):
        data = row.values
        name, domain = data["company_name"], row.stored.domain or None
        row.account_id, row.account_name = pk, name
        values.append(
            (
                pk,
                name,
                domain,
                AccountSource.IMPORT.value,
                AccountStatus.PENDING_HANDOFF.value,
                data.get("industry") or "",
                data.get("company_size") or "",
                ops.adapt_decimalfield_value(Decimal(data["arr"]), 14, 2),
                ops.adapt_datefield_value(datetime.date.fromisoformat(data["close_date"])),
                data.get("website") or "",
                data.get("notes") or "",
                account_search_text(name, domain, (), ()),
            )
        )
    insert.run(values)


def _typed(name: str, value: Any) -> Any:
    if name == "arr":
        return Decimal(value)
    if name == "close_date":
        return datetime.date.fromisoformat(value)
    return value


def _accounts_onboard(ctx: RunContext, rows: list[_Row]) -> None:
    """Fill the empty fields of existing accounts and put them into onboarding.

    One statement per account: updates are the few rows whose company is known already.
    """
    if not rows:
        return
    statuses = dict(
        Account.objects.filter(pk__in=[row.account_id for row in rows]).values_list("pk", "status")
    )
    for row in rows:
        row.account_status = statuses[row.account_id]
        changes = {name: _typed(name, row.values[name]) for name in row.fields}
        Account.objects.filter(pk=row.account_id).update(
            **changes, status=AccountStatus.PENDING_HANDOFF, updated_at=ctx.now
        )


def _contacts_link(rows: list[_Row]) -> set[tuple[int, int]]:
    """Make each row's primary contact a contact of its account; return the new links.

    What `contacts_add_to_accounts` does, with prepared inserts: a chunk's people are
    mostly new, and model instances cost more than the rows. People known already (a
    contact of another account) are linked as they are; one without a name takes the
    row's. SQLite's writers take turns, so nobody adds them meanwhile; elsewhere a
    unique constraint would refuse the statement and the chunk is retried whole.
    """
    links = [
        ContactLink(
            account_id=row.account_id,
            email=_contact_email(row.values["primary_contact_email"]),
            name=(row.values.get("primary_contact_name") or "").strip()[:200],
            kind=ContactKind.CUSTOMER,
            title=(row.values.get("primary_contact_role") or "")[:200],
        )
        for row in rows
    ]
    first: dict[str, ContactLink] = {}
    for link in links:
        first.setdefault(link.email, link)
    known = contacts_by_email(list(first))
    missing = sorted(email for email in first if email not in known)
    new_ids = ids_reserve(Contact, len(missing))
    RowsInsert(Contact, ("id", "email", "name", "kind", "title"), now=timezone.now()).run(
        (pk, email, first[email].name, first[email].kind, first[email].title)
        for pk, email in zip(new_ids, missing, strict=True)
    )
    ids = {email: pk for email, (pk, _) in known.items()} | dict(zip(missing, new_ids, strict=True))
    for email, (pk, name) in known.items():
        if not name and first[email].name:
            Contact.objects.filter(pk=pk).update(name=first[email].name)
    pairs = list(dict.fromkeys((link.account_id, ids[link.email]) for link in links))
    linked: set[tuple[int, int]] = set()
    if known:
        linked = set(
            AccountContact.objects.filter(
                contact_id__in=[pk for pk, _ in known.values()],
                account_id__in=[account_id for account_id, _ in pairs],
            ).values_list("account_id", "contact_id")
        )
    new_pairs = [pair for pair in pairs if pair not in linked]
    RowsInsert(AccountContact, ("account", "contact"), now=timezone.now()).run(new_pairs)
    emails = {pk: email for email, pk in ids.items()}
    added: dict[int, list[str]] = {}
    for account_id, contact_id in new_pairs:
        added.setdefault(account_id, []).append(emails[contact_id])
    account_contacts_counted(added)
    for row, link in zip(rows, links, strict=True):
        row.contact_id = ids[link.email]
    return set(new_pairs)


def _plans_write(
    ctx: RunContext, rows: list[_Row], drafts: dict[int, list[tuple[str, str, str, str]] | None]
) -> None:
    if not rows:
        return
    started = value_adapt(Plan, "started_on", ctx.today)
    created_by = ctx.actor.pk if ctx.actor else None
    plans = []
    for row, pk in zip(rows, ids_reserve(Plan, len(rows)), strict=True):
        row.plan_id = pk
        data = row.values
        snapshot = ctx.versions[data["template_id"]].version
        plans.append(
            (
                pk,
                row.account_id,
                snapshot.template_id,
                snapshot.template.name,
                snapshot.number,
                ctx.versions[data["template_id"]].milestones_json,
                ctx.versions[data["template_id"]].questions_json,
                started,
                PlanSource.IMPORT.value,
                data["ae_email"],
                data.get("notes") or "",
                row.contact_id,
                data.get("primary_contact_role") or "",
                created_by,
            )
        )
    RowsInsert(
        Plan,
        (
            "id",
            "account",
            "template",
            "template_name",
            "version_number",
            "milestones",
            "questions",
            "started_on",
            "source",
            "ae_email",
            "raw_payload",
            "primary_contact",
            "primary_contact_role",
            "created_by",
        ),
        now=ctx.now,
    ).run(plans)

    count = sum(len(ctx.versions[row.values["template_id"]].milestones) for row in rows)
    milestone_ids = iter(ids_reserve(PlanMilestone, count))
    milestones: list[tuple[Any, ...]] = []
    tasks: list[tuple[Any, ...]] = []
    answers: list[tuple[Any, ...]] = []
    onboarding = TaskSource.ONBOARDING.value
    for row in rows:
        version = ctx.versions[row.values["template_id"]]
        ids = [next(milestone_ids) for _ in version.milestones]
        milestones.extend(
            (pk, row.plan_id, *data) for pk, data in zip(ids, version.milestones, strict=True)
        )
        account_id = row.account_id
        tasks.extend((account_id, ids[index], *task, onboarding) for index, *task in version.tasks)
        # Only drafted answers are stored, as `onboarding_create` stores them.
        drafted = drafts[row.stored.pk] or []
        answers.extend(
            (row.plan_id, position, *answer) for position, answer in enumerate(drafted) if answer[1]
        )
    RowsInsert(
        PlanMilestone,
        ("id", "plan", "position", "name", "description", "owner_role", "due_date"),
        now=ctx.now,
    ).run(milestones)
    RowsInsert(
        Task,
        (
            "account",
            "milestone",
            "title",
            "owner_role",
            "due_date",
            "customer_visible",
            "customer_completable",
            "position",
            "source",
        ),
        now=ctx.now,
    ).run(tasks)
    RowsInsert(
        HandoffAnswer, ("plan", "position", "key", "answer", "citation", "source"), now=ctx.now
    ).run(answers)


def _links_and_emails_write(ctx: RunContext, rows: list[_Row], tokens: dict[int, str]) -> None:
    if not rows:
        return
    expires = value_adapt(
        AccessLink, "expires_at", ctx.now + datetime.timedelta(days=ctx.link_days)
    )
    links, emails = [], []
    available = value_adapt(OutboxItem, "available_at", ctx.now)
    for row in rows:
        raw = tokens[row.stored.pk]
        ae_email = row.values["ae_email"]
        links.append(
            (
                LinkKind.HANDOFF.value,
                row.account_id,
                hashlib.sha256(raw.encode()).hexdigest(),
                ae_email,
                expires,
            )
        )
        template_name = ctx.versions[row.values["template_id"]].version.template.name
        subject, body = _email(ctx, row.account_name, template_name, raw)
        payload = {"to": [ae_email], "subject": subject, "body": body}
        emails.append(
            (
                "email.send",
                connection.ops.adapt_json_value(payload, None),
                f"handoff:{row.plan_id}:0",
                available,
            )
        )
    RowsInsert(AccessLink, ("kind", "account", "digest", "email", "expires_at"), now=ctx.now).run(
        links
    )
    RowsInsert(OutboxItem, ("action", "payload", "key", "available_at"), now=ctx.now).run(emails)
    outbox_deliver_after_commit()


def _created_changes(row: _Row) -> dict[str, dict[str, Any]]:
    """Return `account_create`'s audit changes for a new account (empty values left out)."""
    data = row.values
    after = {
        "arr": str(Decimal(data["arr"])),
        "close_date": data["close_date"],
        "company_size": data.get("company_size") or "",
        "industry": data.get("industry") or "",
        "name": data["company_name"],
        "notes": data.get("notes") or "",
        "primary_domain": row.stored.domain or None,
        "status": AccountStatus.PENDING_HANDOFF,
        "website": data.get("website") or "",
    }
    return {key: {"before": None, "after": value} for key, value in after.items() if value}


def _audit_write(ctx: RunContext, rows: list[_Row], new_pairs: set[tuple[int, int]]) -> None:
    actor_id = ctx.actor.pk if ctx.actor else None
    json_value = connection.ops.adapt_json_value
    label = ctx.actor.display_name if ctx.actor else "system"
    entries = []

    def entry(row: _Row, action: str, changes: dict[str, dict[str, Any]]) -> None:
        entries.append(
            (
                actor_id,
                label,
                action,
                ACCOUNT_TYPE,
                str(row.account_id),
                row.account_name[:200],
                json_value(changes, None),
            )
        )

    for row in rows:
        version = ctx.versions[row.values["template_id"]].version
        if row.outcome == RowOutcome.CREATE:
            entry(row, "account.create", _created_changes(row))
        else:
            changes = {
                name: {"before": None, "after": str(_typed(name, row.values[name]))}
                for name in row.fields
            }
            changes["status"] = {"before": row.account_status, "after": "pending_handoff"}
            entry(row, "account.update", changes)
        if ctx.actor is not None and (row.account_id, row.contact_id) in new_pairs:
            after = _contact_email(row.values["primary_contact_email"])
            entry(row, "account.contact_add", {"contacts": {"before": None, "after": after}})
        entry(
            row,
            "onboarding.create",
            {
                "plan": {"before": None, "after": f"{version.template.name} v{version.number}"},
                "ae_email": {"before": None, "after": row.values["ae_email"]},
            },
        )
    RowsInsert(
        AuditEntry,
        ("actor", "actor_label", "action", "object_type", "object_id", "object_label", "changes"),
        now=ctx.now,
    ).run(entries)


def _rows_mark(rows: list[_Row]) -> None:
    """Record each row's outcome and account with the chunk, so a resumed run skips it."""
    table = connection.ops.quote_name(ImportRow._meta.db_table)
    values = [
        (
            str(row.outcome),
            row.reason,
            connection.ops.adapt_json_value(row.fields, None),
            row.account_id or None,
            True,
            row.stored.pk,
        )
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET outcome = %s, reason = %s, fields = %s, "  # noqa: S608
            "account_id = %s, written = %s WHERE id = %s",
            values,
        )

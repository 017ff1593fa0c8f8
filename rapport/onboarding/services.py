"""Writes of onboarding: a new customer's account and plan, status, CSM and the handoff.

`onboarding_create` is the one way in for the web form, the API, the CSV import and the
CRM: it finds or makes the account, copies the template version into a plan, drafts the
handoff answers from the deal notes, and queues the AE's email, in one transaction.
"""

import datetime
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.accounts.domains import domain_normalize, primary_domain_refusal
from rapport.accounts.models import Account, AccountSource, AccountStatus, Contact
from rapport.accounts.selectors import account_ids_for_domains
from rapport.accounts.services import account_create
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.specs import STATUS
from rapport.audit.services import audit_record
from rapport.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from rapport.core.outside import OutsideRefused, OutsideUnavailable
from rapport.integrations.llm.client import llm_configured
from rapport.onboarding import notices
from rapport.onboarding.content import DueFrom, questions_of
from rapport.onboarding.drafting import answers_draft
from rapport.onboarding.drafting_llm import answers_draft_llm
from rapport.onboarding.links import LinkClosed, link_create, link_lookup, link_open, links_revoke
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
from rapport.onboarding.questions import NO, YES, Question, QuestionKind
from rapport.onboarding.services_templates import template_current_version, template_find
from rapport.onboarding.specs import CREATE, STATUS_NOTE, TRANSITION_NOTE
from rapport.outbox.services import outbox_release
from rapport.tasks.models import Task, TaskSource
from rapport.tasks.services import task_complete
from rapport.users.models import User

logger = logging.getLogger(__name__)

PLAN_SOURCES = {
    PlanSource.MANUAL: AccountSource.MANUAL,
    PlanSource.API: AccountSource.API,
    PlanSource.IMPORT: AccountSource.IMPORT,
    PlanSource.CRM: AccountSource.CRM,
}
# The account fields a new onboarding fills on an account that exists, where empty.
FILLED_FIELDS = ("arr", "close_date", "industry", "company_size", "website", "notes")


@dataclass(frozen=True)
class NewOnboarding:
    """A new onboarding's values, cleaned by `onboarding_clean`."""

    values: dict[str, Any]
    version: TemplateVersion
    domain: str | None


def onboarding_domain(website: str, contact_email: str) -> str | None:
    """Return the primary domain of a new customer: its website's, else its contact's.

    A public mail domain (gmail.com) says nothing of the company, so it gives none.
    """
    for candidate in (website, contact_email.rpartition("@")[2]):
        if not candidate:
            continue
        try:
            domain = domain_normalize(candidate)
        except InvalidInput:
            continue
        if primary_domain_refusal(domain) is None:
            return domain
    return None


def onboarding_clean(values: Mapping[str, Any]) -> NewOnboarding:
    """Validate a new onboarding's values (as the API types them); raise InvalidInput."""
    unknown = sorted(set(values) - set(CREATE))
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(unknown)}.")
    cleaned = {name: spec.validate(values.get(name, spec.default)) for name, spec in CREATE.items()}
    cleaned["primary_contact_email"] = cleaned["primary_contact_email"].lower()
    cleaned["ae_email"] = cleaned["ae_email"].lower()
    if cleaned["company_size"] is None:
        cleaned["company_size"] = ""
    template = template_find(cleaned["template"])
    version = template_current_version(template)
    domain = onboarding_domain(cleaned["website"], cleaned["primary_contact_email"])
    return NewOnboarding(values=cleaned, version=version, domain=domain)


def _account_for(domain: str | None) -> Account | None:
    account_id = account_ids_for_domains([domain]).get(domain) if domain else None
    return Account.objects.filter(pk=account_id).first() if account_id else None


def answers_drafted(questions: list[Question], notes: str) -> list[HandoffAnswer]:
    """Return a plan's drafted answers, positioned as the questions; empty ones included.

    A plan stores only the answered ones (`plan_write`): an unanswered question has no
    row until someone answers it.
    """
    drafted = answers_draft(questions, notes) if notes.strip() else {}
    answers = []
    for position, question in enumerate(questions):
        draft = drafted.get(question.key)
        answer = draft.answer if draft else ""
        answers.append(
            HandoffAnswer(
                position=position,
                key=question.key,
                answer=answer,
                citation=draft.citation if draft and answer else "",
                source=AnswerSource.OFFLINE if answer else AnswerSource.NONE,
            )
        )
    return answers


def milestone_due_dates(
    milestones: list[dict[str, Any]], start: datetime.date
) -> list[datetime.date]:
    """Return each milestone's due date, counted from the start or the previous milestone."""
    dates: list[datetime.date] = []
    for milestone in milestones:
        base = start if milestone["due_from"] == DueFrom.START or not dates else dates[-1]
        dates.append(base + datetime.timedelta(days=milestone["due_days"]))
    return dates


def plan_write(
    *,
    account: Account,
    version: TemplateVersion,
    source: str,
    actor: User | None,
    start: datetime.date,
    ae_email: str,
    raw_payload: str,
    contact: Contact | None,
    contact_role: str,
    answers: list[HandoffAnswer],
) -> Plan:
    """Copy *version* into a plan of *account*: milestones, their tasks and the answers."""
    plan = Plan.objects.create(
        account=account,
        template=version.template,
        template_name=version.template.name,
        version_number=version.number,
        milestones=version.milestones,
        questions=version.questions,
        started_on=start,
        source=source,
        ae_email=ae_email,
        raw_payload=raw_payload,
        primary_contact=contact,
        primary_contact_role=contact_role,
        created_by=actor,
    )
    due_dates = milestone_due_dates(version.milestones, start)
    milestones = PlanMilestone.objects.bulk_create(
        [
            PlanMilestone(
                plan=plan,
                position=position,
                name=data["name"],
                description=data["description"],
                owner_role=data["owner_role"],
                due_date=due,
            )
            for position, (data, due) in enumerate(zip(version.milestones, due_dates, strict=True))
        ]
    )
    tasks = [
        Task(
            account=account,
            milestone=milestone,
            title=task["title"],
            owner_role="customer" if task["customer_completable"] else data["owner_role"],
            due_date=milestone.due_date,
            customer_visible=task["customer_visible"],
            customer_completable=task["customer_completable"],
            source=TaskSource.ONBOARDING,
            position=position,
        )
        for milestone, data in zip(milestones, version.milestones, strict=True)
        for position, task in enumerate(data["tasks"])
    ]
    Task.objects.bulk_create(tasks)
    answered = [answer for answer in answers if answer.answer]
    for answer in answered:
        answer.plan = plan
    HandoffAnswer.objects.bulk_create(answered)
    return plan


def onboarding_create(
    *, actor: User | None, values: Mapping[str, Any], source: str = PlanSource.MANUAL
) -> Plan:
    """Onboard a new customer: account, plan, drafted handoff answers and the AE's email.

    An account that already has the customer's domain is onboarded, never duplicated;
    one already onboarding is refused (409). The account ends `pending_handoff`.
    """
    new = onboarding_clean(values)
    data = new.values
    questions = questions_of(new.version.questions)
    answers = answers_drafted(
        questions, data["raw_payload"]
    )  # pure and offline: before the transaction
    with transaction.atomic():
        account = _account_for(new.domain)
        if account is not None:
            account = Account.objects.select_for_update().get(pk=account.pk)
            if Plan.objects.filter(account=account).exists():
                raise Conflict(
                    f"The account “{account.name}” (id {account.pk}) has an onboarding plan "
                    "already.",
                    field="company_name",
                )
            _account_onboard(actor, account, data)
        else:
            account = account_create(
                actor=actor,
                name=data["company_name"],
                primary_domain=new.domain,
                source=PLAN_SOURCES.get(PlanSource(source), AccountSource.MANUAL),
                status=AccountStatus.PENDING_HANDOFF,
                **{name: data[name] for name in FILLED_FIELDS},
            )
        contact = contact_add_to_account(
            account=account,
            email=data["primary_contact_email"],
            name=data["primary_contact_name"],
            title=data["primary_contact_role"],
            actor=actor,
        )
        plan = plan_write(
            account=account,
            version=new.version,
            source=source,
            actor=actor,
            start=timezone.localdate(),
            ae_email=data["ae_email"],
            raw_payload=data["raw_payload"],
            contact=contact,
            contact_role=data["primary_contact_role"],
            answers=answers,
        )
        _, raw = link_create(account=account, kind=LinkKind.HANDOFF, email=plan.ae_email)
        # With a language model set up, the AE's email waits for its drafts, a bounded time.
        wait = None
        if llm_configured() and plan.raw_payload.strip():
            wait = timezone.now() + datetime.timedelta(seconds=settings.DRAFTING_LLM_WAIT_SECONDS)
            plan_id = plan.pk
            transaction.on_commit(lambda: _llm_draft_enqueue(plan_id))
        notices.handoff_email_queue(plan=plan, account=account, raw=raw, available_at=wait)
        audit_record(
            actor=actor,
            action="onboarding.create",
            obj=account,
            changes={
                "plan": {"before": None, "after": f"{plan.template_name} v{plan.version_number}"},
                "ae_email": {"before": None, "after": plan.ae_email},
            },
        )
    return plan


def _llm_draft_enqueue(plan_id: int) -> None:
    from rapport.onboarding.tasks import handoff_llm_draft_run

    handoff_llm_draft_run.enqueue(plan_id)


def handoff_llm_draft(plan_id: int) -> int:
    """Draft a plan's answers with the language model, then let the AE's email go.

    The model is called outside any transaction. Its drafts replace the offline ones the
    AE has not touched; an answer it could not cite keeps the offline draft. When the
    model fails, the email goes at once with the offline answers. Return how many answers
    the model drafted.
    """
    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is None:
        return 0
    key = notices.handoff_email_key(plan)
    if plan.handoff_submitted_at is not None or not llm_configured():
        outbox_release(key)
        return 0
    try:
        drafts = answers_draft_llm(
            questions_of(plan.questions),
            plan.raw_payload,
            timeout=max(1, settings.DRAFTING_LLM_WAIT_SECONDS - 5),
        )
    except (OutsideUnavailable, OutsideRefused) as exc:
        logger.warning("Handoff drafts of plan %s stay offline: %s", plan_id, exc)
        with transaction.atomic():
            outbox_release(key)
        return 0
    drafted = 0
    positions = {q.key: position for position, q in enumerate(questions_of(plan.questions))}
    with transaction.atomic():
        stored = {
            row.key: row
            for row in HandoffAnswer.objects.select_for_update().filter(
                plan_id=plan_id, key__in=list(drafts)
            )
        }
        for answer_key, draft in drafts.items():
            row = stored.get(answer_key)
            if row is None:
                HandoffAnswer.objects.create(
                    plan_id=plan_id,
                    position=positions[answer_key],
                    key=answer_key,
                    answer=draft.answer,
                    citation=draft.citation,
                    source=AnswerSource.LLM,
                )
            elif row.source in (AnswerSource.NONE, AnswerSource.OFFLINE):
                row.answer, row.citation = draft.answer, draft.citation
                row.source = AnswerSource.LLM
                row.save(update_fields=["answer", "citation", "source", "updated_at"])
            else:
                continue  # the AE's own answer stays
            drafted += 1
        outbox_release(key)
    return drafted


def _account_onboard(actor: User | None, account: Account, data: Mapping[str, Any]) -> None:
    """Put an existing account into onboarding, filling only its empty fields."""
    before = {"status": account.status}
    changes: dict[str, dict[str, Any]] = {}
    for name in FILLED_FIELDS:
        if data[name] not in (None, "") and getattr(account, name) in (None, ""):
            changes[name] = {"before": None, "after": str(data[name])}
            setattr(account, name, data[name])
    account.status = AccountStatus.PENDING_HANDOFF
    account.save()
    changes["status"] = {"before": before["status"], "after": account.status}
    audit_record(actor=actor, action="account.update", obj=account, changes=changes)


# --- status and CSM ------------------------------------------------------------------------


def account_status_change(*, actor: User, account: Account, status: str, note: str = "") -> Account:
    """Set an account's status, with an optional note; both go in its history."""
    status = STATUS.validate(status)
    note = STATUS_NOTE.validate(note)
    with transaction.atomic():
        account = Account.objects.select_for_update(of=("self",)).get(pk=account.pk)
        if account.status == status and not note:
            return account
        changes: dict[str, dict[str, Any]] = {}
        if account.status != status:
            changes["status"] = {"before": account.status, "after": status}
        if note:
            changes["note"] = {"before": None, "after": note}
        before = account.status
        account.status = status
        account.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="account.status", obj=account, changes=changes)
        # A customer who starts onboarding without the handoff form still gets their portal.
        if before == AccountStatus.PENDING_HANDOFF and status == AccountStatus.ACTIVE:
            portal_open(account=account, actor=actor)
    return account


def csm_candidates() -> list[User]:
    """Return the members an account can be assigned to as CSM."""
    return list(User.objects.filter(is_active=True, is_csm=True).order_by("name", "email"))


def account_csm_assign(
    *,
    account: Account,
    csm: User,
    actor: User | None,
    by_label: str = "",
    notify_csm: bool = True,
    notify_customer: bool = False,
    note: str = "",
) -> Account:
    """Make *csm* the account's CSM; notify them, and the customer, as asked.

    *actor* is the member who assigns, or None for the AE during handoff (named by
    *by_label*). The transition note goes in the account's history, and to the customer
    when they are told.
    """
    if not (csm.is_active and csm.is_csm):
        raise InvalidInput(f"{csm.display_name} is not a CSM of this workspace.", field="csm")
    note = TRANSITION_NOTE.validate(note)
    with transaction.atomic():
        account = (
            Account.objects.select_for_update(of=("self",)).select_related("csm").get(pk=account.pk)
        )
        previous = account.csm
        if previous == csm and not note:
            return account
        account.csm = csm
        account.save(update_fields=["csm", "updated_at"])
        changes = {
            "csm": {
                "before": previous.display_name if previous else None,
                "after": csm.display_name,
            }
        }
        if note:
            changes["note"] = {"before": None, "after": note}
        audit_record(
            actor=actor,
            actor_label=by_label or None,
            action="account.csm",
            obj=account,
            changes=changes,
        )
        if notify_csm and previous != csm:
            by = actor.display_name if actor else by_label
            notices.csm_notify(account=account, csm=csm, note=note, by=by)
        contact = _primary_contact(account)
        if notify_customer and contact is not None:
            notices.customer_csm_intro(account=account, contact=contact, csm=csm, note=note)
    return account


def _primary_contact(account: Account) -> Contact | None:
    plan = Plan.objects.filter(account=account).select_related("primary_contact").first()
    return plan.primary_contact if plan else None


# --- handoff -------------------------------------------------------------------------------


def _answer_clean(question: Question, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"The answer to “{question.text}” must be text.", field=question.key)
    text = value.strip()
    if len(text) > 10_000:
        raise InvalidInput("An answer is at most 10,000 characters.", field=question.key)
    if text and question.kind == QuestionKind.YES_NO and text not in (YES, NO):
        raise InvalidInput(f"“{question.text}” is answered yes or no.", field=question.key)
    if text and question.kind == QuestionKind.CHOICE and text not in question.choices:
        raise InvalidInput(
            f"“{question.text}” is answered with one of: {', '.join(question.choices)}.",
            field=question.key,
        )
    return text


def handoff_answers_save(*, plan: Plan, answers: Mapping[str, Any]) -> None:
    """Store the AE's answers; an answer they changed is theirs, without the draft's citation."""
    if plan.handoff_submitted_at is not None:
        raise Conflict("This handoff was submitted already.")
    questions = {q.key: q for q in questions_of(plan.questions)}
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise InvalidInput(f"Unknown questions: {', '.join(unknown)}.")
    cleaned = {key: _answer_clean(questions[key], value) for key, value in answers.items()}
    positions = {key: position for position, key in enumerate(questions)}
    with transaction.atomic():
        stored = {
            row.key: row
            for row in HandoffAnswer.objects.select_for_update().filter(plan=plan, key__in=cleaned)
        }
        for key, answer in cleaned.items():
            row = stored.get(key)
            if row is None:
                if answer:  # a question the draft left open, answered now
                    HandoffAnswer.objects.create(
                        plan=plan,
                        position=positions[key],
                        key=key,
                        answer=answer,
                        source=AnswerSource.AE,
                    )
                continue
            if row.answer == answer:
                continue
            row.answer = answer
            row.citation = ""
            row.source = AnswerSource.AE if row.answer else AnswerSource.NONE
            row.save(update_fields=["answer", "citation", "source", "updated_at"])


def handoff_submit(*, plan: Plan, answers: Mapping[str, Any], csm: User) -> Plan:
    """Submit the handoff: save the answers, assign the CSM, make the account `active`.

    The handoff link stops working, and the customer's primary contact gets their portal
    link.
    """
    handoff_answers_save(plan=plan, answers=answers)
    now = timezone.now()
    with transaction.atomic():
        plan = Plan.objects.select_for_update().select_related("account").get(pk=plan.pk)
        if plan.handoff_submitted_at is not None:
            raise Conflict("This handoff was submitted already.")
        plan.handoff_submitted_at = now
        plan.save(update_fields=["handoff_submitted_at"])
        account = plan.account
        by = f"{plan.ae_email} (account executive)"
        account_csm_assign(account=account, csm=csm, actor=None, by_label=by, notify_csm=True)
        account.refresh_from_db()
        before = account.status
        account.status = AccountStatus.ACTIVE
        account.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=None,
            actor_label=by,
            action="onboarding.handoff",
            obj=account,
            changes={"status": {"before": before, "after": AccountStatus.ACTIVE}},
        )
        links_revoke(account=account, kind=LinkKind.HANDOFF)
        portal_open(account=account, actor=None)
    return plan


def portal_open(*, account: Account, actor: User | None) -> str | None:
    """Send the primary contact a new portal link (any earlier one stops working).

    Return the link's token, or None when the plan has no primary contact.
    """
    contact = _primary_contact(account)
    if contact is None:
        return None
    links_revoke(account=account, kind=LinkKind.PORTAL)
    _, raw = link_create(account=account, kind=LinkKind.PORTAL, email=contact.email)
    notices.portal_email_queue(account=account, contact=contact, raw=raw)
    if actor is not None:
        audit_record(
            actor=actor,
            action="onboarding.portal_link",
            obj=account,
            changes={"portal": {"before": None, "after": f"sent to {contact.email}"}},
        )
    return raw


def handoff_link_renew(*, plan: Plan, actor: User | None) -> str:
    """Send the AE a new handoff link; the old one stops working.

    Without an *actor* it is the scheduled reminder (`handoff_reminders_send`).
    """
    if plan.handoff_submitted_at is not None:
        raise Conflict("This handoff was submitted already.")
    with transaction.atomic():
        links_revoke(account=plan.account, kind=LinkKind.HANDOFF)
        _, raw = link_create(account=plan.account, kind=LinkKind.HANDOFF, email=plan.ae_email)
        plan.handoff_reminders += 1
        plan.handoff_reminded_at = timezone.now()
        plan.save(update_fields=["handoff_reminders", "handoff_reminded_at"])
        notices.handoff_email_queue(
            plan=plan, account=plan.account, raw=raw, reminder=plan.handoff_reminders
        )
        audit_record(
            actor=actor,
            actor_label=None if actor else "reminder",
            action="onboarding.handoff_link",
            obj=plan.account,
            changes={"handoff_link": {"before": None, "after": f"sent to {plan.ae_email}"}},
        )
    return raw


MAX_REMINDERS = 3


def handoff_reminders_send() -> int:
    """Remind each AE whose handoff waits longer than HANDOFF_REMINDER_DAYS; return how many.

    An AE is reminded at most MAX_REMINDERS times, HANDOFF_REMINDER_DAYS apart.
    """
    due = timezone.now() - datetime.timedelta(days=settings.HANDOFF_REMINDER_DAYS)
    waiting = (
        Plan.objects.filter(
            handoff_submitted_at__isnull=True,
            created_at__lte=due,
            handoff_reminders__lt=MAX_REMINDERS,
            account__status=AccountStatus.PENDING_HANDOFF,
        )
        .exclude(handoff_reminded_at__gt=due)
        .exclude(ae_email="")
        .select_related("account")
    )
    sent = 0
    for plan in waiting:
        handoff_link_renew(plan=plan, actor=None)
        sent += 1
    return sent


# --- the pages reached by a signed link ------------------------------------------------------

# What the customer's portal calls each status it shows; it never says "at risk", and a
# churned customer's portal is closed.
PORTAL_STAGES = {
    AccountStatus.PENDING_HANDOFF: "Getting started",
    AccountStatus.ACTIVE: "Onboarding in progress",
    AccountStatus.AT_RISK: "Onboarding in progress",
    AccountStatus.COMPLETED: "Launched",
}


def handoff_link_open(raw: str) -> AccessLink:
    """Return the open handoff link with token *raw*, or raise NotFound or LinkClosed.

    A link spent by submitting the handoff says so, rather than that it was withdrawn.
    """
    try:
        return link_open(raw, LinkKind.HANDOFF)
    except LinkClosed:
        spent = link_lookup(raw, LinkKind.HANDOFF)
        plan = Plan.objects.filter(account_id=spent.account_id).first() if spent else None
        if plan is not None and plan.handoff_submitted_at is not None:
            raise LinkClosed(
                f"This handoff was submitted on {plan.handoff_submitted_at:%Y-%m-%d}. Thank you."
            ) from None
        raise


def handoff_csm(csm_id: str | None) -> User:
    """Return the CSM the AE picked by id, or raise NotFound asking for one."""
    digits = csm_id if csm_id and csm_id.isdigit() and len(csm_id) < 19 else ""
    csm = User.objects.filter(pk=int(digits or 0), is_active=True, is_csm=True).first()
    if csm is None:
        raise NotFound("Choose the CSM who takes the account over.", field="csm")
    return csm


def portal_link_open(raw: str) -> AccessLink:
    """Return the open portal link with token *raw*, or raise NotFound or LinkClosed."""
    link = link_open(raw, LinkKind.PORTAL)
    if link.account.status not in PORTAL_STAGES:
        raise LinkClosed("This page is no longer available.")
    return link


def portal_task_complete(*, link: AccessLink, task_id: int) -> Task:
    """Check off one of the customer's own tasks from their portal, or raise NotFound.

    Only a task of the link's account that the customer may complete is found.
    """
    task = Task.objects.filter(
        pk=task_id, account=link.account, customer_visible=True, customer_completable=True
    ).first()
    if task is None:
        raise NotFound("No such task.")
    return task_complete(task=task, customer_label=f"{link.email or 'the customer'} (customer)")


def member_require(actor: User | None) -> User:
    if actor is None or not actor.is_active:
        raise PermissionDenied("Log in as a member of this workspace.")
    return actor

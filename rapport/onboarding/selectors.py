"""Reads of onboarding: an account's plan with its progress, and the onboarding list."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, ExpressionWrapper, F, FloatField, Max, Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from rapport.accounts.models import Account, AccountStatus
from rapport.onboarding.content import questions_of
from rapport.onboarding.models import HandoffAnswer, Plan, PlanMilestone, Template, TemplateVersion
from rapport.onboarding.questions import Question
from rapport.tasks.models import Task, TaskStatus

# The statuses of the onboarding list, in the order of the way to launch.
LIST_STATUSES = (
    AccountStatus.PENDING_HANDOFF,
    AccountStatus.ACTIVE,
    AccountStatus.AT_RISK,
    AccountStatus.COMPLETED,
    AccountStatus.CHURNED,
)


@dataclass
class MilestoneView:
    milestone: PlanMilestone
    tasks: list[Task] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for t in self.tasks if t.status == TaskStatus.DONE)

    @property
    def total(self) -> int:
        return len(self.tasks)

    @property
    def complete(self) -> bool:
        return self.milestone.completed_at is not None or (
            self.total > 0 and self.done == self.total
        )

    @property
    def overdue(self) -> bool:
        due = self.milestone.due_date
        return not self.complete and due is not None and due < timezone.localdate()


@dataclass
class AnswerView:
    question: Question
    answer: HandoffAnswer | None


@dataclass
class PlanView:
    """A plan as a page or the API shows it."""

    plan: Plan
    milestones: list[MilestoneView]
    answers: list[AnswerView]

    @property
    def done(self) -> int:
        return sum(m.done for m in self.milestones)

    @property
    def total(self) -> int:
        return sum(m.total for m in self.milestones)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def milestones_done(self) -> int:
        return sum(1 for m in self.milestones if m.complete)

    def customer_tasks(self) -> list[Task]:
        return [t for m in self.milestones for t in m.tasks if t.customer_visible]


def task_overdue(task: Task, today: datetime.date | None = None) -> bool:
    """Return whether an open task is past its due date."""
    today = today or timezone.localdate()
    return task.status == TaskStatus.OPEN and task.due_date is not None and task.due_date < today


def plan_view(account: Account) -> PlanView | None:
    """Return the account's plan with milestones, tasks and answers (four queries), or None."""
    plan = (
        Plan.objects.select_related("account__csm", "primary_contact", "template")
        .filter(account=account)
        .first()
    )
    if plan is None:
        return None
    milestones = {m.pk: MilestoneView(m) for m in PlanMilestone.objects.filter(plan=plan)}
    tasks = (
        Task.objects.filter(milestone__plan=plan)
        .select_related("owner")
        .order_by("milestone__position", "position", "id")
    )
    for task in tasks:
        assert task.milestone_id is not None
        milestones[task.milestone_id].tasks.append(task)
    stored = {a.key: a for a in HandoffAnswer.objects.filter(plan=plan)}
    answers = [AnswerView(q, stored.get(q.key)) for q in questions_of(plan.questions)]
    return PlanView(plan=plan, milestones=list(milestones.values()), answers=answers)


@dataclass(frozen=True)
class OnboardingFilters:
    statuses: tuple[str, ...] = ()
    q: str = ""
    arr_min: Decimal | None = None
    arr_max: Decimal | None = None
    template: str = ""
    sort: str = "-created"


SORTS = {
    "name": ("account__name", "id"),
    "arr": ("account__arr", "id"),
    "close_date": ("account__close_date", "id"),
    "status": ("account__status", "id"),
    "created": ("created_at", "id"),
    "template": ("template_name", "id"),
    "progress": ("tasks_done_ratio", "id"),
}


def onboarding_plans(filters: OnboardingFilters) -> QuerySet[Plan]:
    """Return the plans the onboarding list shows, filtered and sorted, with their progress."""
    plans = Plan.objects.select_related("account__csm", "primary_contact").annotate(
        tasks_total=Count("plan_milestones__tasks"),
        tasks_done=Count(
            "plan_milestones__tasks", filter=Q(plan_milestones__tasks__status=TaskStatus.DONE)
        ),
    )
    if filters.statuses:
        plans = plans.filter(account__status__in=filters.statuses)
    if filters.q:
        words = filters.q.strip()
        plans = plans.filter(
            Q(account__name__icontains=words)
            | Q(primary_contact__name__icontains=words)
            | Q(primary_contact__email__icontains=words)
        )
    if filters.arr_min is not None:
        plans = plans.filter(account__arr__gte=filters.arr_min)
    if filters.arr_max is not None:
        plans = plans.filter(account__arr__lte=filters.arr_max)
    if filters.template:
        plans = plans.filter(template_name__icontains=filters.template.strip())
    key = filters.sort.lstrip("-")
    descending = filters.sort.startswith("-")
    if key == "progress":
        plans = plans.annotate(
            tasks_done_ratio=ExpressionWrapper(
                F("tasks_done") * 1.0 / Greatest(F("tasks_total"), 1), output_field=FloatField()
            )
        )
    order = SORTS.get(key, SORTS["created"])
    return plans.order_by(*(f"-{o}" if descending else o for o in order))


def plan_progress(plan: Plan) -> dict[str, int]:
    """Return the done, total and percent of tasks of a plan from `onboarding_plans`."""
    done, total = int(getattr(plan, "tasks_done", 0)), int(getattr(plan, "tasks_total", 0))
    return {"done": done, "total": total, "percent": round(100 * done / total) if total else 0}


def onboarding_counts() -> dict[str, int]:
    """Return how many plans' accounts are in each status (every status, 0 included)."""
    rows = Plan.objects.values("account__status").annotate(n=Count("id"))
    counts = {status.value: 0 for status in LIST_STATUSES}
    for row in rows:
        counts[row["account__status"]] = counts.get(row["account__status"], 0) + row["n"]
    return counts


def templates_list() -> QuerySet[Template]:
    """Return the templates with their newest version number and how many plans use them."""
    return Template.objects.annotate(
        version_number=Max("versions__number"), plan_count=Count("plans", distinct=True)
    )


def templates_current(ids: Sequence[int] | None = None) -> list[tuple[Template, TemplateVersion]]:
    """Return the templates (all, or those of *ids*) with their current version, in two queries.

    Each template carries `plan_count`, as `templates_list` annotates it.
    """
    found = templates_list()
    if ids is not None:
        found = found.filter(pk__in=list(ids))
    templates = list(found)
    if not templates:
        return []
    wanted = Q(pk__in=[])
    for template in templates:
        wanted |= Q(template_id=template.pk, number=getattr(template, "version_number", 0))
    versions = {version.template_id: version for version in TemplateVersion.objects.filter(wanted)}
    return [(template, versions[template.pk]) for template in templates if template.pk in versions]


def template_version(template: Template, number: int) -> TemplateVersion | None:
    return TemplateVersion.objects.filter(template=template, number=number).first()


def versions_compare(older: TemplateVersion | None, newer: TemplateVersion) -> list[str]:
    """Return what *newer* changed from *older*, one line per change, for people to read."""
    if older is None:
        return ["First version."]
    lines: list[str] = []
    old_milestones = {m["name"]: m for m in older.milestones}
    new_milestones = {m["name"]: m for m in newer.milestones}
    for name in new_milestones.keys() - old_milestones.keys():
        lines.append(f"Added the milestone “{name}”.")
    for name in old_milestones.keys() - new_milestones.keys():
        lines.append(f"Removed the milestone “{name}”.")
    for name in new_milestones.keys() & old_milestones.keys():
        before, after = old_milestones[name], new_milestones[name]
        for attr, label in (
            ("owner_role", "owner"),
            ("due_days", "due in days"),
            ("due_from", "due from"),
            ("description", "description"),
        ):
            if before[attr] != after[attr]:
                lines.append(f"“{name}”: {label} changed from {before[attr]!r} to {after[attr]!r}.")
        old_tasks = {t["title"] for t in before["tasks"]}
        new_tasks = {t["title"] for t in after["tasks"]}
        lines += [f"“{name}”: added the task “{t}”." for t in sorted(new_tasks - old_tasks)]
        lines += [f"“{name}”: removed the task “{t}”." for t in sorted(old_tasks - new_tasks)]
    if [m["name"] for m in older.milestones if m["name"] in new_milestones] != [
        m["name"] for m in newer.milestones if m["name"] in old_milestones
    ]:
        lines.append("Changed the order of the milestones.")
    old_questions = {q["key"]: q for q in older.questions}
    new_questions = {q["key"]: q for q in newer.questions}
    lines += [
        f"Added the question “{new_questions[k]['text']}”."
        for k in new_questions.keys() - old_questions.keys()
    ]
    lines += [
        f"Removed the question “{old_questions[k]['text']}”."
        for k in old_questions.keys() - new_questions.keys()
    ]
    for key in new_questions.keys() & old_questions.keys():
        if new_questions[key] != old_questions[key]:
            lines.append(f"Changed the question “{new_questions[key]['text']}”.")
    return sorted(
        lines,
        key=lambda line: (
            not line.startswith(("Added the milestone", "Removed the milestone")),
            line,
        ),
    ) or ["No change."]


def plan_json(view: PlanView) -> dict[str, Any]:
    """Return a plan as the API answers it."""
    plan, account = view.plan, view.plan.account
    today = timezone.localdate()
    return {
        "id": account.pk,
        "account_id": account.pk,
        "company_name": account.name,
        "status": account.status,
        "primary_domain": account.primary_domain,
        "arr": account.arr,
        "close_date": account.close_date,
        "csm": {"id": account.csm.pk, "email": account.csm.email, "name": account.csm.name}
        if account.csm
        else None,
        "ae_email": plan.ae_email,
        "primary_contact": {
            "email": plan.primary_contact.email,
            "name": plan.primary_contact.name,
            "role": plan.primary_contact_role,
        }
        if plan.primary_contact
        else None,
        "template": {
            "id": plan.template_id,
            "name": plan.template_name,
            "version": plan.version_number,
        },
        "started_on": plan.started_on,
        "handoff_submitted_at": plan.handoff_submitted_at,
        "progress": {"done": view.done, "total": view.total, "percent": view.percent},
        "milestones": [
            {
                "id": m.milestone.pk,
                "name": m.milestone.name,
                "owner_role": m.milestone.owner_role,
                "due_date": m.milestone.due_date,
                "completed": m.complete,
                "overdue": m.overdue,
                "tasks": [
                    {
                        "id": t.pk,
                        "title": t.title,
                        "status": t.status,
                        "owner_role": t.owner_role,
                        "due_date": t.due_date,
                        "overdue": task_overdue(t, today),
                        "customer_visible": t.customer_visible,
                        "customer_completable": t.customer_completable,
                        "completed_at": t.completed_at,
                        "completed_by": t.completed_by_label or None,
                    }
                    for t in m.tasks
                ],
            }
            for m in view.milestones
        ],
        "answers": [
            {
                "key": a.question.key,
                "question": a.question.text,
                "kind": a.question.kind.value,
                "choices": list(a.question.choices),
                "answer": a.answer.answer if a.answer else "",
                "citation": a.answer.citation if a.answer else "",
                "source": a.answer.source if a.answer else "none",
            }
            for a in view.answers
        ],
    }

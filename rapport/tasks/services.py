"""Writes of account tasks: create, complete and reopen, by a member or by the customer."""

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import Account
from rapport.audit.services import audit_record
from rapport.core.errors import InvalidInput, PermissionDenied
from rapport.core.specs import FieldSpec, Kind
from rapport.tasks.models import Task, TaskSource, TaskStatus
from rapport.users.models import User

TITLE = FieldSpec("title", "Title", Kind.TEXT, required=True, max_length=300)
DESCRIPTION = FieldSpec("description", "Description", Kind.TEXT, max_length=5000)
DUE_DATE = FieldSpec("due_date", "Due date", Kind.DATE)


def task_create(
    *,
    actor: User | None,
    account: Account,
    title: str,
    description: str = "",
    owner: User | None = None,
    due_date: datetime.date | str | None = None,
    customer_visible: bool = False,
    customer_completable: bool = False,
    source: str = TaskSource.MANUAL,
) -> Task:
    """Add a task to *account*. A task the customer completes is one they can see."""
    if owner is not None and not owner.is_active:
        raise InvalidInput("The owner must be an active member.", field="owner")
    task = Task.objects.create(
        account=account,
        title=TITLE.validate(title),
        description=DESCRIPTION.validate(description),
        owner=owner,
        due_date=DUE_DATE.validate(due_date),
        customer_visible=customer_visible or customer_completable,
        customer_completable=customer_completable,
        source=source,
    )
    audit_record(
        actor=actor,
        action="task.create",
        obj=account,
        changes={"task": {"before": None, "after": task.title}},
    )
    return task


def _milestone_settle(task: Task, now: datetime.datetime) -> None:
    """Mark the task's milestone complete when its last open task is done, or reopen it."""
    if task.milestone_id is None:
        return
    from rapport.onboarding.models import PlanMilestone

    open_left = Task.objects.filter(milestone_id=task.milestone_id, status=TaskStatus.OPEN).exists()
    PlanMilestone.objects.filter(pk=task.milestone_id).update(
        completed_at=None if open_left else now
    )


def task_complete(*, task: Task, actor: User | None = None, customer_label: str = "") -> Task:
    """Check a task off, as a member (*actor*) or as the customer from the portal.

    The customer may complete only the tasks they are allowed to. Completing a done task
    again changes nothing.
    """
    if actor is None and not (task.customer_visible and task.customer_completable):
        raise PermissionDenied("This task is completed by the team, not from the portal.")
    now = timezone.now()
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        if task.status == TaskStatus.DONE:
            return task
        label = actor.display_name if actor is not None else customer_label or "Customer"
        task.status = TaskStatus.DONE
        task.completed_at = now
        task.completed_by = actor
        task.completed_by_label = label[:200]
        task.save(update_fields=["status", "completed_at", "completed_by", "completed_by_label"])
        _milestone_settle(task, now)
        audit_record(
            actor=actor,
            actor_label=None if actor is not None else label,
            action="task.complete",
            obj=task.account,
            changes={"task": {"before": task.title, "after": "done"}},
        )
    return task


def task_reopen(*, task: Task, actor: User) -> Task:
    """Open a completed task again (a member only)."""
    now = timezone.now()
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        if task.status == TaskStatus.OPEN:
            return task
        task.status = TaskStatus.OPEN
        task.completed_at = None
        task.completed_by = None
        task.completed_by_label = ""
        task.save(update_fields=["status", "completed_at", "completed_by", "completed_by_label"])
        _milestone_settle(task, now)
        audit_record(
            actor=actor,
            action="task.reopen",
            obj=task.account,
            changes={"task": {"before": "done", "after": task.title}},
        )
    return task


def tasks_bulk_create(rows: list[dict[str, Any]]) -> list[Task]:
    """Write many tasks at once (a new plan's); *rows* are Task field values."""
    return Task.objects.bulk_create([Task(**row) for row in rows])

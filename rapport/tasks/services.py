"""Writes of account tasks: complete and reopen, by a member or by the customer.

Tasks are created with the plan they belong to (`rapport.onboarding.services.plan_write`).
"""

import datetime

from django.db import transaction
from django.utils import timezone

from rapport.audit.services import audit_record
from rapport.core.errors import PermissionDenied
from rapport.tasks.models import Task, TaskStatus
from rapport.users.models import User


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


def task_toggle(*, task: Task, actor: User) -> Task:
    """Complete an open task, or reopen a done one, as a member's checkbox does."""
    if task.status == TaskStatus.OPEN:
        return task_complete(task=task, actor=actor)
    return task_reopen(task=task, actor=actor)

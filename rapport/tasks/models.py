"""Account tasks: one model for every to-do about an account.

Onboarding milestones hold tasks; a customer's own tasks show in their portal; alerts,
workflows and the account page list and create the same rows.
"""

from django.conf import settings
from django.db import models


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class TaskSource(models.TextChoices):
    MANUAL = "manual", "Added by a member"
    ONBOARDING = "onboarding", "Onboarding plan"


class Task(models.Model):
    """A to-do about an account, for a member or for the customer.

    `customer_visible` shows it in the customer's portal; `customer_completable` lets the
    customer check it off there. Who completed it is a member (`completed_by`) or, from the
    portal, the customer, named in `completed_by_label` either way.
    """

    # The FK columns lead the composite indexes below, which serve their lookups; their own
    # single-column indexes would only slow the bulk inserts of new plans.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    milestone = models.ForeignKey(
        "onboarding.PlanMilestone",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        db_index=False,
    )
    # Who does it when no member is named: "csm", "ae", "customer", ...
    owner_role = models.CharField(max_length=30, blank=True)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    customer_visible = models.BooleanField(default=False)
    customer_completable = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=TaskSource.choices, default=TaskSource.MANUAL)
    position = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Looked up only when a member is deleted (rare): no index to keep up on every insert.
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    completed_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("due_date", "position", "id")
        indexes = [
            models.Index(fields=["account", "status", "due_date"], name="task_account_idx"),
            # Plan tasks wait for an owner: only owned tasks are in the "my tasks" index.
            models.Index(
                fields=["owner", "status", "due_date"],
                name="task_owner_idx",
                condition=models.Q(owner__isnull=False),
            ),
            models.Index(fields=["status", "due_date"], name="task_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer_completable=False) | models.Q(customer_visible=True),
                name="task_completable_is_visible",
            ),
        ]

    def __str__(self) -> str:
        return self.title

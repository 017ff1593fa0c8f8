"""Onboarding: templates and their versions, each account's plan, handoff and portal links."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Template(models.Model):
    """A named onboarding plan; its content lives in versions, the newest being current."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = (Lower("name"), "id")
        constraints = [
            models.UniqueConstraint(Lower("name"), name="onboarding_template_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class TemplateVersion(models.Model):
    """One version of a template: its milestones (with their tasks) and handoff questions.

    Never edited: an edit writes the next version. `milestones` is a list of
    {"name", "description", "owner_role", "due_days", "due_from" ("start" or "previous"),
    "tasks": [{"title", "customer_visible", "customer_completable"}]}; `questions` a list
    of `rapport.onboarding.questions.Question` as JSON.
    """

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    milestones = models.JSONField(default=list)
    questions = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("template", "-number")
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"


class PlanSource(models.TextChoices):
    MANUAL = "manual", "Created by hand"
    API = "api", "API"
    IMPORT = "import", "CSV import"
    CRM = "crm", "CRM"


class Plan(models.Model):
    """An account's onboarding plan: a snapshot of a template version taken at creation.

    The snapshot (`template_name`, `version_number`, `milestones`, `questions`) is copied,
    so editing or deleting the template never changes a plan already under way.
    """

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, related_name="onboarding_plan"
    )
    template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="plans"
    )
    template_name = models.CharField(max_length=200)
    version_number = models.PositiveIntegerField()
    milestones = models.JSONField(default=list)
    questions = models.JSONField(default=list)
    started_on = models.DateField()
    source = models.CharField(max_length=8, choices=PlanSource.choices, default=PlanSource.MANUAL)
    ae_email = models.EmailField(blank=True)
    ae_name = models.CharField(max_length=200, blank=True)
    primary_contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    primary_contact_role = models.CharField(max_length=200, blank=True)
    raw_payload = models.TextField(blank=True)
    handoff_submitted_at = models.DateTimeField(null=True, blank=True)
    handoff_reminded_at = models.DateTimeField(null=True, blank=True)
    handoff_reminders = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["template_name", "id"], name="plan_template_idx"),
            models.Index(fields=["handoff_submitted_at", "created_at"], name="plan_handoff_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template_name} for account {self.account_id}"


class PlanMilestone(models.Model):
    """A milestone of a plan, with its due date worked out when the plan was made."""

    # The unique (plan, position) index serves lookups by plan.
    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="plan_milestones", db_index=False
    )
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_role = models.CharField(max_length=30, blank=True)
    due_date = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("plan", "position")
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="plan_milestone_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class AnswerSource(models.TextChoices):
    NONE = "none", "Not answered"
    OFFLINE = "offline", "Drafted from the deal notes"
    LLM = "llm", "Drafted by the language model"
    AE = "ae", "Written by the account executive"


class HandoffAnswer(models.Model):
    """The answer to one handoff question of a plan, with the sentence it was drafted from.

    A row exists once the question is answered (drafted, or by the AE); an open question
    has none.
    """

    # The unique (plan, key) index serves lookups by plan.
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="answers", db_index=False)
    position = models.PositiveIntegerField()
    key = models.CharField(max_length=64)
    answer = models.TextField(blank=True)
    citation = models.TextField(blank=True)
    source = models.CharField(max_length=8, choices=AnswerSource.choices, default=AnswerSource.NONE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("plan", "position")
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="handoff_answer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.answer[:40]}"


class LinkKind(models.TextChoices):
    HANDOFF = "handoff", "Handoff"
    PORTAL = "portal", "Customer portal"


class AccessLink(models.Model):
    """A signed link to one account's handoff form or portal, for someone with no login.

    Only the token's digest is stored. A link stops working when revoked or expired.
    """

    kind = models.CharField(max_length=8, choices=LinkKind.choices)
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="access_links", db_index=False
    )
    digest = models.CharField(max_length=64, unique=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["account", "kind"], name="access_link_account_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} link of account {self.account_id}"

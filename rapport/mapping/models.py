"""Mapping decisions (which account a conversation belongs to, and why) and their settings."""

from django.conf import settings
from django.db import models


class MappingMethod(models.TextChoices):
    """How the account was found, in the order the engine tries them."""

    ACCOUNT_ID = "account_id", "Direct account id"
    CUSTOMER_REF = "customer_ref", "Customer reference"
    SLACK_CHANNEL = "slack_channel", "Slack channel"
    CONTACT = "contact", "Known contact"
    EMAIL_DOMAIN = "email_domain", "Email domain"
    AUTO_CREATE = "auto_create", "Automatic account creation"
    MANUAL = "manual", "Manual override"
    NONE = "none", "No method matched"


class MappingOutcome(models.TextChoices):
    LINKED = "linked", "Linked"
    CREATED = "created", "Account created"
    CONFLICT = "conflict", "Conflict"
    UNMATCHED = "unmatched", "Unmatched"


class MappingDecision(models.Model):
    """One decision about a conversation's account: automatic or a person's override."""

    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="mapping_decisions"
    )
    method = models.CharField(max_length=16, choices=MappingMethod.choices)
    outcome = models.CharField(max_length=16, choices=MappingOutcome.choices)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous_account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # [{"id": 3, "name": "Acme", "via": "secondary domain acme.io"}, ...]
    candidates = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=500)
    requester_domain = models.CharField(max_length=253, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The requester this (manual) decision made a contact of its account, when they were
    # not one before: moving the conversation away again undoes that link, and only that.
    linked_contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # True once a later manual decision replaced this automatic one.
    overridden = models.BooleanField(default=False)
    # A conflict stays open until someone resolves it.
    resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["created_at", "method"], name="mapping_created_method_idx"),
            models.Index(fields=["outcome", "resolved"], name="mapping_outcome_idx"),
            models.Index(fields=["conversation", "-created_at"], name="mapping_conv_idx"),
            models.Index(fields=["method", "requester_domain"], name="mapping_manual_domain_idx"),
        ]

    def __str__(self) -> str:
        return self.reason


class MappingSettings(models.Model):
    """Workspace-wide mapping settings; one row, edited by admins."""

    auto_create_accounts = models.BooleanField(
        default=False,
        help_text="Create an account for a new, non-public email domain.",
    )
    public_domains_added = models.JSONField(default=list, blank=True)
    public_domains_removed = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "mapping settings"

    def __str__(self) -> str:
        return "Mapping settings"

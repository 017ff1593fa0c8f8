"""Calls to outside services (Slack, email) waiting to be made, written with the change."""

from django.db import models


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed for good"


class DeliveryState(models.TextChoices):
    """How a person reads an item's status: a pending item not tried yet is queued."""

    QUEUED = "queued", "Queued"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"
    SENT = "sent", "Sent"


class OutboxItem(models.Model):
    """One call to make to an outside service, stored in the transaction that asks for it.

    A change and the Slack messages or emails it causes commit together or not at all;
    the dispatcher makes the call after the commit. A call that fails for a while
    (rate limit, outage) is retried at `available_at`; a dispatcher that dies mid-call
    leaves its lease to expire, and the call is made again (at least once).
    """

    action = models.CharField(
        max_length=64, help_text="The registered handler, e.g. slack.reaction."
    )
    payload = models.JSONField(default=dict, blank=True)
    # Deduplicates calls a retry of the same change would ask for twice.
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    available_at = models.DateTimeField()
    leased_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last try ended, whatever came of it."
    )
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=["status", "available_at", "id"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.action} #{self.pk} ({self.status})"

    @property
    def delivery_state(self) -> DeliveryState:
        """Return queued, retrying, failed or sent."""
        if self.status == OutboxStatus.SENT:
            return DeliveryState.SENT
        if self.status == OutboxStatus.FAILED:
            return DeliveryState.FAILED
        return DeliveryState.RETRYING if self.attempts else DeliveryState.QUEUED

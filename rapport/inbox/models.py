"""Channels that customer conversations arrive on."""

from django.conf import settings
from django.db import models

from rapport.accounts.models import Account


class Channel(models.Model):
    """A Slack channel shared with customers, linked to one or more accounts."""

    slack_team_id = models.CharField(max_length=32)
    slack_channel_id = models.CharField(max_length=32)
    name = models.CharField(max_length=80)
    is_private = models.BooleanField(default=False)
    accounts = models.ManyToManyField(Account, through="ChannelAccount", related_name="channels")
    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The customer success manager who looks after this channel.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                fields=["slack_team_id", "slack_channel_id"], name="channel_slack_unique"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.name}"


class ChannelAccount(models.Model):
    """A link between a channel and an account."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "account"], name="channel_account_unique")
        ]
        indexes = [models.Index(fields=["account", "channel"], name="channel_account_rev_idx")]

    def __str__(self) -> str:
        return f"{self.channel_id} -> {self.account_id}"

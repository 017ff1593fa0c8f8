"""Channels that customer conversations arrive on."""

from django.conf import settings
from django.db import models
from django.urls import reverse

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


class Source(models.TextChoices):
    SLACK = "slack", "Slack"
    EMAIL = "email", "Email"
    WEB_CHAT = "web_chat", "Web chat"
    API = "api", "API"


class InboundEventStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be processed"
    DONE = "done", "Processed"
    IGNORED = "ignored", "Ignored"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


class InboundEvent(models.Model):
    """One delivery from a channel, stored before anything else happens to it.

    (source, external_id) is unique, so a retried delivery is a no-op. The event stays
    pending until the transaction that stores its message commits, so a worker that dies
    half-way loses nothing: the recovery job enqueues pending events again.
    """

    source = models.CharField(max_length=16, choices=Source.choices)
    external_id = models.CharField(max_length=255)
    payload = models.JSONField(default=dict, blank=True)
    raw = models.BinaryField(blank=True, default=b"", editable=False)
    status = models.CharField(
        max_length=16, choices=InboundEventStatus.choices, default=InboundEventStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("received_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="inbound_event_unique")
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="inbound_status_idx")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class RequesterIdentity(models.TextChoices):
    """Whether anyone vouches for a requester's email, where the channel can tell.

    Left blank where the channel itself is the proof (a Slack profile, a mailbox, an API
    token). A web chat visitor's email is `verified` when the site's backend signed it,
    and `unverified` when it is only what they typed: such a claim makes no contact and
    no account.
    """

    VERIFIED = "verified", "Verified"
    UNVERIFIED = "unverified", "Unverified"


class Conversation(models.Model):
    """A thread with a customer: a Slack thread, an email thread, a chat or an API ticket."""

    source = models.CharField(max_length=16, choices=Source.choices)
    # Identifies the thread within its source: Slack "<channel>:<thread ts>", the root
    # Message-ID of an email thread, a chat id, an API ticket id.
    thread_key = models.CharField(max_length=300)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    requester = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requester_email = models.CharField(max_length=254, blank=True)
    requester_name = models.CharField(max_length=200, blank=True)
    requester_identity = models.CharField(
        max_length=12, choices=RequesterIdentity.choices, blank=True
    )
    subject = models.CharField(max_length=500, blank=True)
    mapping_method = models.CharField(max_length=16, blank=True)
    mapping_outcome = models.CharField(max_length=16, blank=True, db_index=True)
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-last_message_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "thread_key"], name="conversation_thread_unique"
            )
        ]
        indexes = [
            models.Index(fields=["-last_message_at", "-id"], name="conversation_recent_idx"),
            models.Index(fields=["account", "-last_message_at"], name="conversation_account_idx"),
            models.Index(fields=["source", "-last_message_at"], name="conversation_source_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or f"{self.get_source_display()} conversation {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("inbox:conversation", args=[self.pk])


class MessageDirection(models.TextChoices):
    INBOUND = "inbound", "From the customer"
    OUTBOUND = "outbound", "From the team"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Message(models.Model):
    """One message of a conversation.

    A team reply written in Rapport is `queued` until its channel takes it (`sent`, with
    `sent_at` the moment it left) or refuses it for good (`failed`, with the reason).
    Messages that arrived through a channel were sent there already; a customer's
    carry no delivery status.
    """

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    external_id = models.CharField(max_length=300)
    event = models.ForeignKey(
        InboundEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    direction = models.CharField(
        max_length=16, choices=MessageDirection.choices, default=MessageDirection.INBOUND
    )
    author_email = models.CharField(max_length=254, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    author_external_id = models.CharField(max_length=64, blank=True)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    delivery_status = models.CharField(max_length=8, choices=DeliveryStatus.choices, blank=True)
    delivery_error = models.TextField(
        blank=True, help_text="Why the channel has not taken the reply (yet)."
    )

    class Meta:
        ordering = ("sent_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="message_unique")
        ]
        indexes = [models.Index(fields=["conversation", "sent_at"], name="message_conv_idx")]

    def __str__(self) -> str:
        return f"{self.author_name or self.author_email}: {self.text[:40]}"

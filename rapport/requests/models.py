"""Customer requests: what a team triages, owns and closes, and how it is configured."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from rapport.accounts.models import Account, Contact
from rapport.detection.modes import DetectionMode
from rapport.inbox.models import Channel, Conversation, Message, Source


class RequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    WAITING = "waiting", "Waiting on customer"
    PENDING = "pending", "On hold"
    CLOSED = "closed", "Closed"


class RequestOrigin(models.TextChoices):
    """How a message became a request."""

    DETECTED = "detected", "Detected"
    ASSIGNED = "assigned", "Assigned by hand"
    TICKET = "ticket", "API ticket"


class Request(models.Model):
    """A customer's question or ask, from its first message until someone closes it.

    The root message is the customer message that opened it; follow-up messages join
    through `RequestMessage` (thread replies and grouped channel messages).
    """

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="requests"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    requester = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    requester_name = models.CharField(max_length=200, blank=True)
    requester_email = models.CharField(max_length=254, blank=True)
    # The requester's id in the source (a Slack user id), for grouping their messages.
    requester_external_id = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=300)
    status = models.CharField(
        max_length=16, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_requests",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    origin = models.CharField(max_length=16, choices=RequestOrigin.choices)
    detection_score = models.FloatField(null=True, blank=True)
    # When the customer asked: the root message's time, not when Rapport saw it.
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField()
    last_customer_message_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    nudged_at = models.DateTimeField(null=True, blank=True)
    # The triage channel's notification message, once Slack has it.
    notification_channel = models.CharField(max_length=32, blank=True)
    notification_ts = models.CharField(max_length=32, blank=True)
    # The ticket sent to the email-based ticketing tool.
    ticket_address = models.CharField(max_length=254, blank=True)
    ticket_reference = models.CharField(max_length=300, blank=True)
    ticket_sent_at = models.DateTimeField(null=True, blank=True)
    # SLA targets, fixed when the request opens from its account's policy.
    sla_policy_name = models.CharField(max_length=100, blank=True)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # Customer satisfaction, 1 (bad) to 5 (great), asked for when the request closes.
    csat_requested_at = models.DateTimeField(null=True, blank=True)
    csat_score = models.PositiveSmallIntegerField(null=True, blank=True)
    csat_comment = models.TextField(blank=True)
    csat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat_score__isnull=True)
                | models.Q(csat_score__gte=1, csat_score__lte=5),
                name="request_csat_range",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="request_status_idx"),
            models.Index(
                fields=["assignee", "status", "-created_at", "-id"], name="request_assignee_idx"
            ),
            models.Index(
                fields=["account", "status", "-created_at", "-id"], name="request_account_idx"
            ),
            models.Index(
                fields=["channel", "status", "-created_at", "-id"], name="request_channel_idx"
            ),
            models.Index(
                fields=["source", "status", "-created_at", "-id"], name="request_source_idx"
            ),
            models.Index(fields=["status", "last_activity_at"], name="request_activity_idx"),
            models.Index(fields=["conversation", "status"], name="request_conversation_idx"),
            models.Index(fields=["updated_at"], name="request_updated_idx"),
            models.Index(
                fields=["account", "-created_at", "-id"], name="request_account_recent_idx"
            ),
            # The metrics refresh finds requests whose SLA target passed unmet.
            models.Index(
                fields=["first_response_due_at"],
                condition=models.Q(first_response_at__isnull=True),
                name="request_response_due_idx",
            ),
            models.Index(
                fields=["resolution_due_at"],
                condition=models.Q(closed_at__isnull=True),
                name="request_resolution_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("requests:detail", args=[self.pk])

    @property
    def is_closed(self) -> bool:
        return self.status == RequestStatus.CLOSED


class RequestMessage(models.Model):
    """A message that belongs to a request; a message belongs to at most one."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="links")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="request_link")
    grouped = models.BooleanField(
        default=False, help_text="Joined by conversation grouping, not by its thread."
    )

    class Meta:
        indexes = [models.Index(fields=["request"], name="request_message_idx")]

    def __str__(self) -> str:
        return f"{self.request_id} <- {self.message_id}"


class ActivityKind(models.TextChoices):
    CREATED = "created", "Created"
    GROUPED = "grouped", "Message grouped"
    ASSIGNED = "assigned", "Assigned"
    STATUS = "status", "Status changed"
    RESPONDED = "responded", "First response"
    TICKET = "ticket", "Ticket created"
    NUDGED = "nudged", "Nudge sent"
    CSAT = "csat", "Satisfaction rated"


class RequestActivity(models.Model):
    """One thing that happened to a request, for its timeline."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=16, choices=ActivityKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the change was, e.g. {"from": "open", "to": "closed", "via": "slack"}.
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ("at", "id")
        indexes = [models.Index(fields=["request", "at"], name="request_activity_at_idx")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"


class PendingTriage(models.Model):
    """A new message waiting for triage, written in the transaction that stores it.

    The triage task deletes the row in the transaction that acts on the message, so a
    worker that dies leaves the row, and the recovery job enqueues it again.
    """

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="+")
    queued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["queued_at"], name="pending_triage_idx")]

    def __str__(self) -> str:
        return f"triage {self.message_id}"


class RequestSettings(models.Model):
    """The workspace's request management configuration (one row).

    Every field but the ticketing address can be overridden per channel with
    `ChannelRequestSettings`.
    """

    detection_enabled = models.BooleanField(default=True)
    detection_mode = models.CharField(
        max_length=16, choices=DetectionMode.choices, default=DetectionMode.AGGRESSIVE
    )
    grouping_window_seconds = models.PositiveIntegerField(
        default=120,
        help_text="Follow-up customer messages this close join the request; 0 turns grouping off.",
    )
    assign_first_responder = models.BooleanField(default=True)
    assign_csm = models.BooleanField(default=True)
    dm_assignee = models.BooleanField(default=True)
    emoji_enabled = models.BooleanField(default=True)
    emoji_assigned = models.CharField(max_length=64, default="eyes")
    emoji_closed = models.CharField(max_length=64, default="white_check_mark")
    status_updates = models.BooleanField(default=False)
    auto_close_days = models.PositiveIntegerField(
        default=30, help_text="Close requests with no activity for this many days; 0 turns it off."
    )
    nudge_after_hours = models.PositiveIntegerField(
        default=24, help_text="DM the assignee of a request open this long; 0 turns it off."
    )
    csat_enabled = models.BooleanField(default=True)
    triage_channel_id = models.CharField(
        max_length=32, blank=True, help_text="The Slack channel where new requests are posted."
    )
    ticket_address = models.EmailField(
        blank=True, help_text="The email-based ticketing tool's address; empty hides the action."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "request settings"

    def __str__(self) -> str:
        return "Request settings"


class ChannelRequestSettings(models.Model):
    """One channel's overrides of the workspace's request settings; null inherits."""

    channel = models.OneToOneField(
        Channel, on_delete=models.CASCADE, related_name="request_settings"
    )
    detection_enabled = models.BooleanField(null=True, blank=True)
    # Null inherits the workspace's value, distinct from any value a channel may set.
    detection_mode = models.CharField(  # noqa: DJ001
        max_length=16, choices=DetectionMode.choices, null=True, blank=True
    )
    grouping_window_seconds = models.PositiveIntegerField(null=True, blank=True)
    assign_first_responder = models.BooleanField(null=True, blank=True)
    assign_csm = models.BooleanField(null=True, blank=True)
    dm_assignee = models.BooleanField(null=True, blank=True)
    emoji_enabled = models.BooleanField(null=True, blank=True)
    status_updates = models.BooleanField(null=True, blank=True)
    auto_close_days = models.PositiveIntegerField(null=True, blank=True)
    nudge_after_hours = models.PositiveIntegerField(null=True, blank=True)
    csat_enabled = models.BooleanField(null=True, blank=True)
    triage_channel_id = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "channel request settings"

    def __str__(self) -> str:
        return f"Request settings of {self.channel_id}"

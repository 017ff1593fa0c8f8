"""SLA policies and the precomputed request figures of each account."""

import datetime

from django.db import models
from django.urls import reverse

from rapport.accounts.models import Account, Contact
from rapport.inbox.models import Source


def _weekdays_default() -> list[int]:
    return [0, 1, 2, 3, 4]


class SlaPolicy(models.Model):
    """The response and resolution targets of the accounts of one tier.

    The policy with an empty tier is the default: it applies to accounts whose tier has
    no policy of its own (and to requests without an account). Targets count business
    minutes: the policy's working weekdays (0 = Monday) from `day_start` to `day_end`
    in its time zone, or every minute when `always_on` (24/7).
    """

    name = models.CharField(max_length=100)
    tier = models.CharField(
        max_length=50,
        blank=True,
        help_text="The account tier it applies to; empty for the default.",
    )
    first_response_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Business minutes to the first response; empty: no target."
    )
    resolution_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Business minutes to resolution; empty: no target."
    )
    always_on = models.BooleanField("24/7", default=False)
    timezone = models.CharField(max_length=64, default="UTC")
    weekdays = models.JSONField(default=_weekdays_default)
    day_start = models.TimeField(default=datetime.time(9, 0))
    day_end = models.TimeField(default=datetime.time(18, 0))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("tier", "name")
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["tier"], name="sla_policy_tier_unique"),
            models.CheckConstraint(
                condition=models.Q(always_on=True) | models.Q(day_start__lt=models.F("day_end")),
                name="sla_policy_day_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("metrics:sla_policies") + f"#policy-{self.pk}"


class AccountRequestMetrics(models.Model):
    """The request figures of one account, computed in SQL by `account_request_metrics_refresh`.

    One row per account, so the directory sorts and filters on them through an index
    and a join by primary key instead of aggregating requests per page.
    """

    account = models.OneToOneField(
        Account, primary_key=True, on_delete=models.CASCADE, related_name="request_metrics"
    )
    open_count = models.PositiveIntegerField(default=0)
    waiting_count = models.PositiveIntegerField(default=0)
    pending_count = models.PositiveIntegerField(default=0)
    closed_count = models.PositiveIntegerField(default=0)
    total_count = models.PositiveIntegerField(default=0)
    last_request_at = models.DateTimeField(null=True, blank=True)
    top_requester = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    top_requester_name = models.CharField(max_length=254, blank=True)
    top_source = models.CharField(max_length=16, choices=Source.choices, blank=True)
    avg_first_response_seconds = models.FloatField(null=True, blank=True)
    avg_resolution_seconds = models.FloatField(null=True, blank=True)
    avg_csat = models.FloatField(null=True, blank=True)
    csat_count = models.PositiveIntegerField(default=0)
    first_response_breaches = models.PositiveIntegerField(default=0)
    resolution_breaches = models.PositiveIntegerField(default=0)
    # Both kinds together, so "has SLA breaches" and the breaches column use one index.
    breach_count = models.PositiveIntegerField(default=0)
    # When a refresh last wrote the row: a refresh that finds the same figures leaves
    # the row (and its indexes) alone.
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = "account request metrics"
        verbose_name_plural = "account request metrics"
        # The directory's sorts and filters on these figures, each ending with the id
        # so a page in that order reads the index and stops after one page of rows.
        indexes = [
            models.Index(fields=["open_count", "account"], name="metrics_open_idx"),
            models.Index(fields=["total_count", "account"], name="metrics_total_idx"),
            models.Index(fields=["last_request_at", "account"], name="metrics_last_idx"),
            models.Index(
                fields=["avg_first_response_seconds", "account"], name="metrics_first_resp_idx"
            ),
            models.Index(
                fields=["avg_resolution_seconds", "account"], name="metrics_resolution_idx"
            ),
            models.Index(fields=["avg_csat", "account"], name="metrics_csat_idx"),
            models.Index(fields=["breach_count", "account"], name="metrics_breach_idx"),
        ]

    def __str__(self) -> str:
        return f"Request metrics of {self.account_id}"


class MetricsRefreshState(models.Model):
    """How far the incremental refresh has read request changes (one row)."""

    refreshed_through = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Request metrics refreshed through {self.refreshed_through}"

"""What Rapport remembers about Slack between events."""

from django.db import models


class SlackUser(models.Model):
    """A Slack user's profile as `users.info` last returned it.

    Cached so that every message of a customer does not cost a Web API call (Slack
    rate-limits `users.info`), and refreshed once it is older than a day.
    """

    team_id = models.CharField(max_length=32)
    user_id = models.CharField(max_length=32)
    email = models.CharField(max_length=254, blank=True)
    real_name = models.CharField(max_length=200, blank=True)
    is_bot = models.BooleanField(default=False)
    avatar_url = models.URLField(max_length=500, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team_id", "user_id"], name="slack_user_unique")
        ]

    def __str__(self) -> str:
        return self.real_name or self.email or f"{self.team_id}:{self.user_id}"

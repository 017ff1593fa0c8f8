"""The outbound webhook that tells an API client of the team's replies."""

from django.conf import settings
from django.db import models


class OutboundWebhook(models.Model):
    """Where replies to API conversations are POSTed, and the secret that signs them.

    One row for the workspace, made on first use with a fresh secret. Without a URL,
    replies are only read back through `GET /api/v1/conversations/{id}/messages`.
    """

    url = models.URLField(max_length=500, blank=True)
    secret = models.CharField(max_length=64)
    secret_rotated_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "outbound webhook"

    def __str__(self) -> str:
        return self.url or "(no URL)"

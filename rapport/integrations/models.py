"""What Rapport last learned about reaching each integration."""

from django.conf import settings
from django.db import models


class IntegrationHealth(models.Model):
    """The last outside call to one integration that told something, and its last test.

    The integration's client records each call: a failure every time (unreachable, a
    refused token), a success at most about once a minute. "Test connection" records
    its result here too. The Integrations page reads this with the inbox and the outbox.
    """

    key = models.CharField(max_length=50, unique=True, help_text="The integration, e.g. slack.")
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    tested_at = models.DateTimeField(null=True, blank=True)
    test_ok = models.BooleanField(null=True, blank=True)
    test_detail = models.TextField(blank=True)
    tested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("key",)
        verbose_name_plural = "integration health"

    def __str__(self) -> str:
        return self.key

    @property
    def failing(self) -> bool:
        """True when the latest outside call (or test) failed."""
        return self.last_error_at is not None and (
            self.last_ok_at is None or self.last_error_at >= self.last_ok_at
        )

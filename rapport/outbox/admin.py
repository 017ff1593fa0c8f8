from django.contrib import admin

from rapport.outbox.models import OutboxItem


@admin.register(OutboxItem)
class OutboxItemAdmin(admin.ModelAdmin[OutboxItem]):
    """Read-only: an operator looks here for calls that failed or wait out a rate limit."""

    list_display = ("id", "action", "status", "attempts", "available_at", "last_error")
    list_filter = ("status", "action")
    readonly_fields = [f.name for f in OutboxItem._meta.fields]

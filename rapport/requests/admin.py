from django.contrib import admin

from rapport.requests.models import Request


@admin.register(Request)
class RequestAdmin(admin.ModelAdmin[Request]):
    """Read-only: requests change through the board, Slack or the API, which keep history."""

    list_display = ("id", "title", "status", "assignee", "account", "source", "created_at")
    list_filter = ("status", "source")
    search_fields = ("title", "requester_email")
    list_select_related = ("assignee", "account")
    readonly_fields = [f.name for f in Request._meta.fields]

"""Web chat in the Django admin: add a site, allow its origins, copy the one-line snippet.

The Settings menu's web chat sites page (`pages.py`) does all of this and more; the
admin stays for those used to it, through the same services.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from rapport.integrations.webchat.forms import OriginsField
from rapport.integrations.webchat.models import ChatSite, ChatVisitor
from rapport.integrations.webchat.services import chat_site_create, chat_site_update
from rapport.integrations.webchat.snippets import chat_site_snippet


def _is_admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_admin", False))


class RapportAdminsOnly:
    """Let Rapport admins (the role, not Django's model permissions) manage web chat here.

    Rapport grants no Django model permissions: its admins are staff with the admin role,
    and the services check that same role. Nothing is deleted from here.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Writes go through the services; a site that should stop chatting is switched
        # off instead, which keeps its visitors' history.
        return False


class ChatSiteAdminForm(forms.ModelForm[ChatSite]):
    """Allowed origins as one per line instead of raw JSON."""

    allowed_origins = OriginsField()

    class Meta:
        model = ChatSite
        fields = ("name", "allowed_origins", "is_active", "require_verified")


@admin.register(ChatSite)
class ChatSiteAdmin(RapportAdminsOnly, admin.ModelAdmin[ChatSite]):
    form = ChatSiteAdminForm
    list_display = ("name", "public_key", "origins", "is_active", "require_verified", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "public_key")
    readonly_fields = ("public_key", "snippet", "created_at")

    @admin.display(description="Allowed origins")
    def origins(self, site: ChatSite) -> str:
        return ", ".join(site.allowed_origins) or "none"

    @admin.display(description="Snippet to paste into the site")
    def snippet(self, site: ChatSite) -> str:
        if not site.pk:
            return "Save the site to get its snippet."
        return format_html(
            "<code>{}</code><p class='help'>Paste this line into every page that should "
            "show the chat, just before &lt;/body&gt;.</p>",
            chat_site_snippet(site, settings.SITE_URL),
        )

    def save_model(self, request: HttpRequest, obj: ChatSite, form: Any, change: bool) -> None:
        # Through the services, so the admin check and the audit entry apply here too.
        data = form.cleaned_data
        if change:
            saved = chat_site_update(
                actor=request.user,  # type: ignore[arg-type]
                site=obj,
                name=data["name"],
                allowed_origins=data["allowed_origins"],
                is_active=data["is_active"],
                require_verified=data["require_verified"],
            )
        else:
            saved = chat_site_create(
                actor=request.user,  # type: ignore[arg-type]
                name=data["name"],
                allowed_origins=data["allowed_origins"],
                is_active=data["is_active"],
                require_verified=data["require_verified"],
            )
        obj.pk, obj.public_key, obj.created_at = saved.pk, saved.public_key, saved.created_at


@admin.register(ChatVisitor)
class ChatVisitorAdmin(RapportAdminsOnly, admin.ModelAdmin[ChatVisitor]):
    list_display = ("email", "verified", "name", "site", "ip", "conversation", "created_at")
    list_filter = ("site", "verified")
    search_fields = ("email", "name")
    list_select_related = ("site", "conversation")
    readonly_fields = ("site", "email", "verified", "name", "ip", "conversation", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # visitors start chats from the widget

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # what a visitor left is a record, not a setting

"""The Settings page: every settings page the signed-in user may open, by section."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from rapport.core.settings_menu import settings_sections_for
from rapport.core.web import HtmxLoginRequiredMixin


class SettingsIndexView(HtmxLoginRequiredMixin):
    """List the registered settings pages; admins see every one, members the shared ones."""

    def get(self, request: HttpRequest) -> HttpResponse:
        is_admin = bool(getattr(request.user, "is_admin", False))
        context: dict[str, Any] = {"sections": settings_sections_for(is_admin=is_admin)}
        return render(request, "core/settings.html", context)

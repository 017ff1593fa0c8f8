"""Template context every page gets."""

from typing import Any

from django.http import HttpRequest

from rapport.core.settings_menu import settings_pages_for


def settings_menu(request: HttpRequest) -> dict[str, Any]:
    """The Settings menu entries for the signed-in user (lazy: only pages that show it pay)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"settings_menu": []}
    is_admin = bool(getattr(user, "is_admin", False))
    return {"settings_menu": lambda: settings_pages_for(is_admin=is_admin)}

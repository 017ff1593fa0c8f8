"""What the directory page tests share: its address and how to read its answers."""

from typing import Any

from django.urls import reverse

LIST = reverse("accounts:list")
HTMX = {"HX-Request": "true"}


def page_text(response: Any) -> str:
    """Return the body of a page answer as text."""
    return response.content.decode()

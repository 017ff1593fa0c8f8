"""The lines a site pastes into its pages to show the chat widget."""

from django.urls import reverse

from rapport.integrations.webchat.models import ChatSite


def chat_site_widget_url(site: ChatSite, base_url: str) -> str:
    """Return the address of *site*'s widget script under Rapport's *base_url*."""
    return base_url.rstrip("/") + reverse("webchat:widget", args=[site.public_key])


def chat_site_snippet(site: ChatSite, base_url: str) -> str:
    """Return the line a site pastes into its pages to show the widget."""
    return f'<script src="{chat_site_widget_url(site, base_url)}" async></script>'


def chat_site_snippet_identified(site: ChatSite, base_url: str) -> str:
    """Return the line for a signed-in visitor: the site's backend fills in the three values.

    The widget reads them from the script tag's data attributes, so a page with a strict
    Content-Security-Policy needs no inline script for them.
    """
    return (
        f'<script src="{chat_site_widget_url(site, base_url)}" data-email="EMAIL" '
        'data-name="NAME" data-user-hash="USER_HASH" async></script>'
    )

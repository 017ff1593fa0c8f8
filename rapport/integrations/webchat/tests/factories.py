"""Build web chat data through the real services, and talk to the chat API like the widget."""

import uuid
from typing import Any

from django.test import Client
from django.urls import reverse

from rapport.integrations.webchat.models import ChatSite, ChatVisitor
from rapport.integrations.webchat.services import (
    chat_identity_hash,
    chat_site_create,
    chat_visitor_start,
)

ORIGIN = "https://www.acme-shop.example"


def make_site(name: str = "Acme Shop", *, origins: list[str] | None = None) -> ChatSite:
    return chat_site_create(actor=None, name=name, allowed_origins=origins or [ORIGIN])


def make_visitor(
    site: ChatSite,
    email: str = "jo@acme.example",
    name: str = "Jo Buyer",
    *,
    verified: bool = False,
) -> tuple[ChatVisitor, str]:
    """Start a chat; *verified* signs the email as the site's backend would."""
    user_hash = chat_identity_hash(site.identity_secret, email) if verified else ""
    return chat_visitor_start(
        site=site, email=email, name=name, ip="203.0.113.7", user_hash=user_hash
    )


class Widget:
    """Call the chat API as the widget on a page from *origin* does."""

    def __init__(self, site: ChatSite, origin: str = ORIGIN, client: Client | None = None):
        self.site = site
        self.origin = origin
        self.client = client or Client()

    def url(self, name: str) -> str:
        return reverse(f"webchat:{name}", args=[self.site.public_key])

    def start(
        self,
        email: str = "jo@acme.example",
        name: str = "Jo Buyer",
        user_hash: str | None = None,
        **extra: Any,
    ) -> Any:
        body = {"email": email, "name": name}
        if user_hash is not None:
            body["user_hash"] = user_hash
        return self.client.post(
            self.url("visitors"),
            body,
            content_type="application/json",
            headers={"Origin": self.origin},
            **extra,
        )

    def send(
        self, token: str, text: str = "Hello", client_message_id: str | None = None, **extra: Any
    ) -> Any:
        return self.client.post(
            self.url("messages"),
            {
                "token": token,
                "client_message_id": client_message_id or str(uuid.uuid4()),
                "text": text,
            },
            content_type="application/json",
            headers={"Origin": self.origin},
            **extra,
        )

    def poll(self, token: str, after: str = "", **extra: Any) -> Any:
        query: dict[str, str] = {"token": token}
        if after:
            query["after"] = after
        return self.client.get(
            self.url("messages"), query, headers={"Origin": self.origin}, **extra
        )

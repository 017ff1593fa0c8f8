"""Reads for the chat widget (its site, visitor and messages) and for the sites page."""

import datetime

from rapport.core.errors import NotFound
from rapport.inbox.models import Message
from rapport.integrations.webchat.models import ChatSite, ChatVisitor
from rapport.integrations.webchat.services import VISITOR_TOKEN_PREFIX, visitor_token_digest

POLL_LIMIT = 200


def chat_site_by_key(public_key: str) -> ChatSite | None:
    """Return the active site with *public_key*, or None."""
    return ChatSite.objects.filter(public_key=public_key, is_active=True).first()


def chat_sites() -> list[ChatSite]:
    """Return every site, active or not, by name."""
    return list(ChatSite.objects.order_by("name", "id"))


def chat_site_get(site_id: int) -> ChatSite:
    """Return the site with *site_id*, active or not, or raise NotFound."""
    site = ChatSite.objects.filter(pk=site_id).first()
    if site is None:
        raise NotFound(f"No web chat site with id {site_id}.")
    return site


def chat_visitor_by_token(site: ChatSite, token: str) -> ChatVisitor | None:
    """Return the visitor of *site* whose browser holds *token*, or None."""
    if not token or not token.startswith(VISITOR_TOKEN_PREFIX) or len(token) > 100:
        return None
    return ChatVisitor.objects.filter(site=site, token_digest=visitor_token_digest(token)).first()


def chat_messages_since(
    visitor: ChatVisitor, after: int | datetime.datetime | None = None
) -> list[Message]:
    """Return the messages of *visitor*'s conversation, both ways, oldest first.

    *after* is the id of the last message the widget has (or a time): only newer ones
    are returned, at most POLL_LIMIT per call. Deleted messages are left out.
    """
    if visitor.conversation_id is None:
        return []
    messages = Message.objects.filter(
        conversation_id=visitor.conversation_id, deleted_at__isnull=True
    )
    # An id cursor walks in id order, so a page cut at POLL_LIMIT resumes where it stopped.
    order: tuple[str, ...] = ("pk",)
    if isinstance(after, datetime.datetime):
        messages, order = messages.filter(sent_at__gt=after), ("sent_at", "pk")
    elif after is not None:
        messages = messages.filter(pk__gt=after)
    fields = ("pk", "direction", "author_name", "text", "sent_at", "external_id")
    return list(messages.only(*fields).order_by(*order)[:POLL_LIMIT])


def chat_sites_active_count() -> int:
    """Return how many sites may open chats, for the Integrations page."""
    return ChatSite.objects.filter(is_active=True).count()

"""Writes for web chat: sites, visitors and the messages they send."""

import hashlib
import re
import secrets
from ipaddress import ip_address

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from rapport.audit.services import audit_changes, audit_record
from rapport.core.errors import InvalidInput
from rapport.inbox.models import Conversation, InboundEvent, Source
from rapport.inbox.services import inbound_event_store
from rapport.integrations.webchat.ids import ChatMessageRef
from rapport.integrations.webchat.models import ChatSite, ChatVisitor
from rapport.integrations.webchat.origins import origins_normalize
from rapport.users.models import User
from rapport.users.services import user_require_admin

VISITOR_TOKEN_PREFIX = "wcv_"  # noqa: S105 (a public prefix, not a secret)
MESSAGE_MAX_CHARS = 4000
NAME_MAX_CHARS = 200
_CLIENT_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def visitor_token_digest(raw: str) -> str:
    """Return the stored form of a visitor token."""
    # The token carries 256 random bits, so a fast unsalted hash is enough and keeps
    # authentication to one indexed lookup.
    return hashlib.sha256(raw.encode()).hexdigest()


def _refuse_nul(value: str, what: str) -> None:
    if "\x00" in value:
        raise InvalidInput(f"The {what} cannot contain NUL characters.", field=what)


# --- sites ----------------------------------------------------------------------------------


@transaction.atomic
def chat_site_create(
    *,
    actor: User | None,
    name: str,
    allowed_origins: list[str],
    is_active: bool = True,
) -> ChatSite:
    """Register a website that embeds the chat widget; a new public key is drawn for it."""
    if actor is not None:
        user_require_admin(actor, "add a web chat site")
    name = name.strip()
    if not name:
        raise InvalidInput("Give the site a name.", field="name")
    site = ChatSite.objects.create(
        name=name[:100], allowed_origins=origins_normalize(allowed_origins), is_active=is_active
    )
    audit_record(
        actor=actor,
        action="webchat.site_create",
        obj=site,
        changes=audit_changes(
            {},
            {"name": site.name, "allowed_origins": site.allowed_origins, "active": site.is_active},
        ),
    )
    return site


@transaction.atomic
def chat_site_update(
    *,
    actor: User | None,
    site: ChatSite,
    name: str | None = None,
    allowed_origins: list[str] | None = None,
    is_active: bool | None = None,
) -> ChatSite:
    """Rename a site, change its allowed origins, or switch its widget on or off."""
    if actor is not None:
        user_require_admin(actor, "change a web chat site")
    site = ChatSite.objects.select_for_update().get(pk=site.pk)
    before = {"name": site.name, "allowed_origins": site.allowed_origins, "active": site.is_active}
    if name is not None:
        if not name.strip():
            raise InvalidInput("Give the site a name.", field="name")
        site.name = name.strip()[:100]
    if allowed_origins is not None:
        site.allowed_origins = origins_normalize(allowed_origins)
    if is_active is not None:
        site.is_active = is_active
    site.save(update_fields=["name", "allowed_origins", "is_active"])
    after = {"name": site.name, "allowed_origins": site.allowed_origins, "active": site.is_active}
    audit_record(
        actor=actor, action="webchat.site_update", obj=site, changes=audit_changes(before, after)
    )
    return site


# --- visitors and their messages -------------------------------------------------------------


def chat_visitor_start(
    *, site: ChatSite, email: str, name: str = "", ip: str | None = None
) -> tuple[ChatVisitor, str]:
    """Start a chat for the person who left *email*; return the visitor and its token.

    The token is shown only here: the browser keeps it, Rapport keeps its digest.
    """
    email = (email or "").strip().lower()
    name = " ".join((name or "").split())
    _refuse_nul(email, "email")
    _refuse_nul(name, "name")
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("Enter a valid email address.", field="email") from None
    if len(name) > NAME_MAX_CHARS:
        raise InvalidInput(f"The name is longer than {NAME_MAX_CHARS} characters.", field="name")
    try:
        ip = str(ip_address(ip)) if ip else None
    except ValueError:
        ip = None
    raw = VISITOR_TOKEN_PREFIX + secrets.token_urlsafe(32)
    visitor = ChatVisitor.objects.create(
        site=site, token_digest=visitor_token_digest(raw), email=email, name=name, ip=ip
    )
    return visitor, raw


def chat_message_receive(
    *, site: ChatSite, visitor: ChatVisitor, client_message_id: str, text: str
) -> tuple[InboundEvent, bool]:
    """Store a visitor's message as an inbound event; return it and whether it is new.

    The widget draws *client_message_id* once per message and sends it with every
    retry, so a retried delivery finds its event and stores nothing.
    """
    if visitor.site_id != site.pk:
        raise InvalidInput("This visitor belongs to another site.")
    client_message_id = (client_message_id or "").strip()
    if not _CLIENT_MESSAGE_ID.match(client_message_id):
        raise InvalidInput(
            "client_message_id must be 1 to 64 letters, digits, dashes or underscores.",
            field="client_message_id",
        )
    text = (text or "").strip()
    _refuse_nul(text, "text")
    if not text:
        raise InvalidInput("Write a message first.", field="text")
    if len(text) > MESSAGE_MAX_CHARS:
        raise InvalidInput(
            f"The message is longer than {MESSAGE_MAX_CHARS} characters.", field="text"
        )
    return inbound_event_store(
        source=Source.WEB_CHAT,
        external_id=str(ChatMessageRef(site.pk, visitor.token_digest, client_message_id)),
        payload={
            "site_id": site.pk,
            "visitor_id": visitor.pk,
            "client_message_id": client_message_id,
            "text": text,
        },
    )


def chat_visitor_link_conversation(visitor: ChatVisitor) -> int | None:
    """Link *visitor* to its conversation once its first message has been processed.

    Return the conversation's id, or None while there is none yet. Messages are
    processed after the answer to the widget, so the conversation is found by its
    thread key on a later poll.
    """
    if visitor.conversation_id is not None:
        return visitor.conversation_id
    conversation_id = (
        Conversation.objects.filter(source=Source.WEB_CHAT, thread_key=visitor.thread_key)
        .values_list("pk", flat=True)
        .first()
    )
    if conversation_id is not None:
        ChatVisitor.objects.filter(pk=visitor.pk).update(conversation_id=conversation_id)
        visitor.conversation_id = conversation_id
    return conversation_id

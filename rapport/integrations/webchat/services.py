"""Writes for web chat: sites, visitors and the messages they send."""

import hashlib
import hmac
import re
import secrets
from ipaddress import ip_address

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from rapport.audit.services import audit_changes, audit_record
from rapport.core.errors import InvalidInput, ServiceError
from rapport.inbox.models import Conversation, InboundEvent, Source
from rapport.inbox.services import inbound_event_store
from rapport.integrations.webchat.ids import ChatMessageRef
from rapport.integrations.webchat.models import ChatSite, ChatVisitor, identity_secret_generate
from rapport.integrations.webchat.origins import origins_normalize
from rapport.users.models import User
from rapport.users.services import user_require_admin

VISITOR_TOKEN_PREFIX = "wcv_"  # noqa: S105 (a public prefix, not a secret)
MESSAGE_MAX_CHARS = 4000
NAME_MAX_CHARS = 200
_CLIENT_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_USER_HASH = re.compile(r"^[0-9a-f]{64}$")


class IdentityNotVerified(ServiceError):
    """A visitor's identity was required or claimed, and the site's signature does not hold."""

    status = 403


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
    require_verified: bool = False,
) -> ChatSite:
    """Register a website that embeds the chat widget.

    A new public key and a new identity secret are drawn for it.
    """
    if actor is not None:
        user_require_admin(actor, "add a web chat site")
    name = name.strip()
    if not name:
        raise InvalidInput("Give the site a name.", field="name")
    site = ChatSite.objects.create(
        name=name[:100],
        allowed_origins=origins_normalize(allowed_origins),
        is_active=is_active,
        require_verified=require_verified,
        identity_secret_rotated_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="webchat.site_create",
        obj=site,
        changes=audit_changes({}, _site_audit_values(site)),
    )
    return site


def _site_audit_values(site: ChatSite) -> dict[str, object]:
    # The identity secret never goes into the audit trail.
    return {
        "name": site.name,
        "allowed_origins": site.allowed_origins,
        "active": site.is_active,
        "require_verified": site.require_verified,
    }


@transaction.atomic
def chat_site_update(
    *,
    actor: User | None,
    site: ChatSite,
    name: str | None = None,
    allowed_origins: list[str] | None = None,
    is_active: bool | None = None,
    require_verified: bool | None = None,
) -> ChatSite:
    """Rename a site, change its origins, switch it on or off, or require verified visitors."""
    if actor is not None:
        user_require_admin(actor, "change a web chat site")
    site = ChatSite.objects.select_for_update().get(pk=site.pk)
    before = _site_audit_values(site)
    if name is not None:
        if not name.strip():
            raise InvalidInput("Give the site a name.", field="name")
        site.name = name.strip()[:100]
    if allowed_origins is not None:
        site.allowed_origins = origins_normalize(allowed_origins)
    if is_active is not None:
        site.is_active = is_active
    if require_verified is not None:
        site.require_verified = require_verified
    site.save(update_fields=["name", "allowed_origins", "is_active", "require_verified"])
    audit_record(
        actor=actor,
        action="webchat.site_update",
        obj=site,
        changes=audit_changes(before, _site_audit_values(site)),
    )
    return site


@transaction.atomic
def chat_site_identity_secret_rotate(*, actor: User | None, site: ChatSite) -> ChatSite:
    """Draw a new identity secret for *site*; hashes made with the old one fail from now on.

    The new secret is on the returned site, for the page to show once.
    """
    if actor is not None:
        user_require_admin(actor, "rotate a web chat site's identity secret")
    site = ChatSite.objects.select_for_update().get(pk=site.pk)
    site.identity_secret = identity_secret_generate()
    site.identity_secret_rotated_at = timezone.now()
    site.save(update_fields=["identity_secret", "identity_secret_rotated_at"])
    audit_record(
        actor=actor,
        action="webchat.site_rotate_secret",
        obj=site,
        changes={"identity_secret": {"before": "(previous)", "after": "(new)"}},
    )
    return site


def chat_identity_hash(secret: str, email: str) -> str:
    """Return the `user_hash` a site's backend sends for *email*: hex(HMAC-SHA256(secret, email)).

    The key is the secret and the message the email, both as UTF-8.
    """
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()


def chat_identity_verify(site: ChatSite, email: str, user_hash: str) -> bool:
    """Return whether *user_hash* is the site's signature of *email*.

    The email as the site sent it is checked, then its lower-case form (Rapport keeps
    emails in lower case), each in constant time.
    """
    given = user_hash.encode()
    verified = False
    for candidate in dict.fromkeys((email, email.lower())):
        expected = chat_identity_hash(site.identity_secret, candidate).encode()
        verified |= hmac.compare_digest(expected, given)
    return verified


# --- visitors and their messages -------------------------------------------------------------


def chat_visitor_start(
    *,
    site: ChatSite,
    email: str,
    name: str = "",
    ip: str | None = None,
    user_hash: str = "",
) -> tuple[ChatVisitor, str]:
    """Start a chat for the person who left *email*; return the visitor and its token.

    With *user_hash*, the site's backend vouches for the email: a hash that does not
    match refuses the chat (a forged or stale signature is never taken as a plain
    claim). Without one the email is only what the visitor typed, and a site that
    requires verified visitors refuses the chat. The token is shown only here: the
    browser keeps it, Rapport keeps its digest.
    """
    sent = (email or "").strip()
    email = sent.lower()
    name = " ".join((name or "").split())
    user_hash = (user_hash or "").strip().lower()
    _refuse_nul(email, "email")
    _refuse_nul(name, "name")
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("Enter a valid email address.", field="email") from None
    if len(name) > NAME_MAX_CHARS:
        raise InvalidInput(f"The name is longer than {NAME_MAX_CHARS} characters.", field="name")
    if user_hash and not _USER_HASH.match(user_hash):
        raise InvalidInput(
            "user_hash must be the 64 hex digits of HMAC-SHA256(site secret, email).",
            field="user_hash",
        )
    if user_hash and not chat_identity_verify(site, sent, user_hash):
        raise IdentityNotVerified(
            "The visitor's identity could not be verified: user_hash does not match the "
            "email. Sign the email with the site's current identity secret.",
            field="user_hash",
        )
    if not user_hash and site.require_verified:
        raise IdentityNotVerified(
            "This chat is for signed-in customers: sign in on the site to start a chat.",
            field="user_hash",
        )
    try:
        ip = str(ip_address(ip)) if ip else None
    except ValueError:
        ip = None
    raw = VISITOR_TOKEN_PREFIX + secrets.token_urlsafe(32)
    visitor = ChatVisitor.objects.create(
        site=site,
        token_digest=visitor_token_digest(raw),
        email=email,
        name=name,
        verified=bool(user_hash),
        ip=ip,
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

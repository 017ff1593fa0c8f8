"""Signed links to one account's handoff form or portal, for people with no login.

A link carries 256 random bits; only their SHA-256 digest is stored, so the database
alone opens nothing. A link stops working when revoked or past its expiry.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import Account
from rapport.core.errors import NotFound, ServiceError
from rapport.onboarding.models import AccessLink, LinkKind


class LinkClosed(ServiceError):
    """The link was revoked or has expired: 410, with what to do about it."""

    status = 410


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def link_create(*, account: Account, kind: LinkKind, email: str = "") -> tuple[AccessLink, str]:
    """Write a new link (in the caller's transaction); return it and its token.

    A handoff link expires after HANDOFF_LINK_DAYS; a portal link lasts until revoked.
    """
    raw = secrets.token_urlsafe(32)
    expires = None
    if kind == LinkKind.HANDOFF:
        expires = timezone.now() + datetime.timedelta(days=settings.HANDOFF_LINK_DAYS)
    link = AccessLink.objects.create(
        kind=kind, account=account, digest=_digest(raw), email=email, expires_at=expires
    )
    return link, raw


def link_url(kind: LinkKind, raw: str) -> str:
    """Return the absolute address of the link with token *raw*."""
    name = "onboarding:handoff" if kind == LinkKind.HANDOFF else "onboarding:portal"
    return settings.SITE_URL.rstrip("/") + reverse(name, args=[raw])


def link_lookup(raw: str, kind: LinkKind) -> AccessLink | None:
    """Return the link with token *raw*, open or not (to say why it closed)."""
    return (
        AccessLink.objects.select_related("account").filter(digest=_digest(raw), kind=kind).first()
    )


def link_open(raw: str, kind: LinkKind) -> AccessLink:
    """Return the open link with token *raw*, or raise NotFound or LinkClosed."""
    link = (
        AccessLink.objects.select_related("account").filter(digest=_digest(raw), kind=kind).first()
    )
    if link is None:
        raise NotFound("This link is not valid. Check that it was copied whole.")
    now = timezone.now()
    if link.revoked_at is not None:
        raise LinkClosed("This link was withdrawn. Ask your contact at the company for a new one.")
    if link.expires_at is not None and link.expires_at <= now:
        raise LinkClosed("This link has expired. Ask your contact at the company for a new one.")
    if link.last_used_at is None or (now - link.last_used_at).total_seconds() > 60:
        AccessLink.objects.filter(pk=link.pk).update(last_used_at=now)
    return link


def links_revoke(*, account: Account, kind: LinkKind) -> int:
    """Withdraw every open link of *kind* to *account*; return how many."""
    return AccessLink.objects.filter(account=account, kind=kind, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )

"""Invite people to the workspace by email, and let them join through the link.

An invitation's link carries a random token of 256 bits; only its SHA-256 digest is
stored, so the link names one invitation and cannot be guessed or rebuilt from the
database. A link works once, until `expires_at` (`INVITATION_DAYS` after it was sent);
revoking the invitation or sending it again voids it. The email leaves through the
outbox after the change commits, so no mail server is called inside a transaction.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from rapport.audit.services import audit_record
from rapport.core.errors import Conflict, InvalidInput, NotFound, ServiceError
from rapport.outbox.services import outbox_add
from rapport.users.models import Invitation, InvitationStatus, Role, User
from rapport.users.services import user_create, user_require_admin
from rapport.users.specs import EMAIL, NAME, ROLE


class InvitationClosed(ServiceError):
    """The link was real but no longer works: accepted, revoked or expired."""

    status = 410


def _digest(raw: str) -> str:
    # 256 random bits need no salt or stretching; one indexed lookup finds the row.
    return hashlib.sha256(raw.encode()).hexdigest()


def _token_new() -> tuple[str, str]:
    raw = secrets.token_urlsafe(32)
    return raw, _digest(raw)


def invitation_url(raw: str) -> str:
    """Return the absolute link that opens the invitation with token *raw*."""
    return settings.SITE_URL.rstrip("/") + reverse("users:invitation_accept", args=[raw])


def _expiry(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(days=settings.INVITATION_DAYS)


def _email_queue(invitation: Invitation, raw: str, actor: User) -> None:
    """Queue the email with the link; it is sent once the invitation is committed."""
    role = Role(invitation.role).label.lower()
    greeting = f"Hello {invitation.name}," if invitation.name else "Hello,"
    expires = invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    # A header is one line: a name typed with line breaks must not break the subject.
    inviter = " ".join(actor.display_name.split())
    outbox_add(
        "email.send",
        {
            "to": [invitation.email],
            "subject": f"{inviter} invited you to Rapport",
            "body": (
                f"{greeting}\n\n"
                f"{inviter} invited you to join their Rapport workspace as "
                f"{'an' if role[0] in 'aeiou' else 'a'} {role}.\n\n"
                f"Choose your password and log in here:\n\n{invitation_url(raw)}\n\n"
                f"The link works once, until {expires}. If you did not expect this "
                "invitation, ignore this email.\n"
            ),
        },
        key=f"invitation:{invitation.pk}:{invitation.digest[:16]}",
    )


@transaction.atomic
def invitation_create(
    *, actor: User, email: str, name: str = "", role: str = Role.MEMBER
) -> tuple[Invitation, str]:
    """Invite *email* to join as *role* (admins only); return the invitation and its token.

    The token is for tests and the outgoing email only; it is never stored. An email
    that belongs to a member, or that has an invitation still open, is refused. An
    expired invitation to the same email is replaced.
    """
    user_require_admin(actor, "invite members")
    email = EMAIL.validate(email).lower()
    name = NAME.validate(name)
    role = ROLE.validate(role)
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        if existing.is_active:
            raise Conflict(f"{email} is already a member of this workspace.", field="email")
        raise Conflict(
            f"{email} belongs to a deactivated member: reactivate them instead.", field="email"
        )
    now = timezone.now()
    open_ = (
        Invitation.objects.select_for_update()
        .filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if open_ is not None:
        if open_.expires_at > now:
            raise Conflict(
                f"{email} was already invited; the link works until "
                f"{open_.expires_at:%Y-%m-%d %H:%M} UTC. Send it again from the list "
                "for a new link.",
                field="email",
            )
        open_.revoked_at = now  # an expired invitation makes way for the new one
        open_.save(update_fields=["revoked_at"])
    raw, digest = _token_new()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                email=email,
                name=name,
                role=role,
                invited_by=actor,
                digest=digest,
                sent_at=now,
                expires_at=_expiry(now),
            )
    except IntegrityError:
        # Another admin invited the same email a moment ago (the open-invitation constraint).
        raise Conflict(f"{email} was invited a moment ago.", field="email") from None
    audit_record(
        actor=actor,
        action="invitation.create",
        obj=invitation,
        changes={
            "email": {"before": None, "after": email},
            "role": {"before": None, "after": role},
            "expires_at": {"before": None, "after": invitation.expires_at.isoformat()},
        },
    )
    _email_queue(invitation, raw, actor)
    return invitation, raw


def _open_locked(invitation: Invitation, doing: str) -> Invitation:
    """Lock *invitation* again and refuse to *doing* it once it is accepted or revoked."""
    locked = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if locked is None:
        raise NotFound("No such invitation.")
    if locked.accepted_at is not None:
        raise Conflict(f"{locked.email} already accepted the invitation; there is none to {doing}.")
    if locked.revoked_at is not None:
        raise Conflict(f"The invitation of {locked.email} was revoked; invite them again instead.")
    return locked


@transaction.atomic
def invitation_resend(*, actor: User, invitation: Invitation) -> tuple[Invitation, str]:
    """Email a new link for an open invitation (admins only); the previous link stops working.

    The new link works for `INVITATION_DAYS` from now, so an expired invitation can be
    sent again.
    """
    user_require_admin(actor, "invite members")
    invitation = _open_locked(invitation, "send")
    before = invitation.expires_at
    now = timezone.now()
    raw, invitation.digest = _token_new()
    invitation.sent_at, invitation.expires_at = now, _expiry(now)
    invitation.save(update_fields=["digest", "sent_at", "expires_at"])
    audit_record(
        actor=actor,
        action="invitation.resend",
        obj=invitation,
        changes={
            "expires_at": {"before": before.isoformat(), "after": invitation.expires_at.isoformat()}
        },
    )
    _email_queue(invitation, raw, actor)
    return invitation, raw


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    """Void an open invitation (admins only); its link stops working at once."""
    user_require_admin(actor, "revoke invitations")
    invitation = _open_locked(invitation, "revoke")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="invitation.revoke",
        obj=invitation,
        changes={"revoked_at": {"before": None, "after": invitation.revoked_at.isoformat()}},
    )
    return invitation


def invitation_for_token(raw: str) -> Invitation:
    """Return the open invitation that *raw* opens.

    Raise NotFound for a token that opens nothing, and InvitationClosed (410) saying why
    for one that was accepted, revoked, replaced by a newer link or has expired.
    """
    if not raw or len(raw) > 100:
        raise NotFound("This invitation link is not valid. Check that it was copied whole.")
    invitation = Invitation.objects.select_related("invited_by").filter(digest=_digest(raw)).first()
    if invitation is None:
        raise NotFound(
            "This invitation link is not valid: check that it was copied whole, or ask "
            "for a new one (sending an invitation again replaces its link)."
        )
    match invitation.status:
        case InvitationStatus.ACCEPTED:
            raise InvitationClosed("This invitation was already used. Log in instead.")
        case InvitationStatus.REVOKED:
            raise InvitationClosed(
                "This invitation was withdrawn. Ask an admin of the workspace for a new one."
            )
        case InvitationStatus.EXPIRED:
            raise InvitationClosed(
                f"This invitation expired on {invitation.expires_at:%Y-%m-%d %H:%M} UTC. "
                "Ask an admin of the workspace to send it again."
            )
    return invitation


def invitation_password_check(invitation: Invitation, *, name: str, password: str) -> None:
    """Refuse a password Django's validators refuse, saying why (field "password")."""
    candidate = User(email=invitation.email, name=name, role=invitation.role)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from None


@transaction.atomic
def invitation_accept(*, raw: str, name: str, password: str) -> User:
    """Join the workspace through the invitation *raw* opens; return the new member.

    The link works once: of two tries at the same moment, one creates the member and
    the other is told the invitation was used.
    """
    invitation = invitation_for_token(raw)
    name = NAME.validate(name)
    if not name:
        raise InvalidInput("Enter your name, as your team will see it.", field="name")
    invitation_password_check(invitation, name=name, password=password)
    now = timezone.now()
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(accepted_at=now)
    if not claimed:
        raise InvitationClosed("This invitation was already used. Log in instead.")
    if User.objects.filter(email=invitation.email).exists():
        raise Conflict(f"{invitation.email} already has a Rapport login. Log in instead.")
    member = user_create(email=invitation.email, password=password, name=name, role=invitation.role)
    Invitation.objects.filter(pk=invitation.pk).update(user=member)
    invitation.accepted_at, invitation.user = now, member
    audit_record(
        actor=member,
        action="invitation.accept",
        obj=invitation,
        changes={"accepted_at": {"before": None, "after": now.isoformat()}},
    )
    audit_record(
        actor=member,
        action="user.create",
        obj=member,
        changes={
            "email": {"before": None, "after": member.email},
            "role": {"before": None, "after": member.role},
        },
    )
    return member

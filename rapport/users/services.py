"""Writes for users, teams and API tokens."""

import hashlib
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from rapport.audit.services import audit_record
from rapport.core.errors import InvalidInput, PermissionDenied
from rapport.users.models import ApiToken, Role, Team, User

TOKEN_PREFIX = "rpt_"  # noqa: S105 (a public prefix, not a secret)


def _token_digest(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough (no salt or
    # stretching needed), and it keeps authentication to one indexed lookup.
    return hashlib.sha256(raw.encode()).hexdigest()


def user_require_admin(actor: User, action: str) -> None:
    """Refuse *action* unless *actor* is an active admin."""
    if not actor.is_admin:
        raise PermissionDenied(f"Only an admin can {action}.")


@transaction.atomic
def user_create(
    *, email: str, password: str | None, name: str = "", role: str = Role.MEMBER
) -> User:
    """Create a workspace member."""
    email = email.strip().lower()
    if not email or "@" not in email:
        raise InvalidInput("Enter a valid email address.", field="email")
    if role not in Role.values:
        raise InvalidInput(f"Unknown role {role!r}.", field="role")
    if User.objects.filter(email=email).exists():
        raise InvalidInput(f"A user with the email {email} already exists.", field="email")
    return User.objects.create_user(
        email, password, name=name, role=role, is_staff=role == Role.ADMIN
    )


@transaction.atomic
def team_create(*, name: str, members: list[User] | None = None) -> Team:
    """Create a team with its members."""
    team, _ = Team.objects.get_or_create(name=name.strip())
    if members:
        team.members.add(*members)
    return team


def api_token_create(
    *, user: User, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a personal API token and return it with its secret, shown only once."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        digest=_token_digest(raw),
        expires_at=expires_at,
    )
    return token, raw


def api_token_authenticate(raw: str) -> User | None:
    """Return the active user a bearer token belongs to, or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_token_digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    # Record use at most once a minute so a busy client does not write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke a token; it stops working at once."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def user_slack_link_by_email(*, email: str, slack_user_id: str) -> User | None:
    """Link the active member whose email Slack reports to their Slack user id.

    Called when Slack tells Rapport who wrote a message: a member who was never linked
    by hand is recognised by email as part of the team, from their first message on. A
    member already linked to another Slack id is left alone.
    """
    if not email or not slack_user_id:
        return None
    member = User.objects.filter(email=email.strip().lower(), is_active=True).first()
    if member is None or (member.slack_user_id and member.slack_user_id != slack_user_id):
        return None
    if not member.slack_user_id:
        member.slack_user_id = slack_user_id
        member.save(update_fields=["slack_user_id"])
        audit_record(
            actor=None,
            action="user.link_slack",
            obj=member,
            changes={"slack_user_id": {"before": "", "after": slack_user_id}},
            actor_label="Slack",
        )
    return member

"""Writes for users, teams and API tokens."""

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.audit.services import audit_changes, audit_record
from rapport.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from rapport.core.specs import specs_validate
from rapport.users.models import ApiToken, Role, Team, User
from rapport.users.specs import MEMBER, TOKEN_NAME

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


@transaction.atomic
def member_update(*, actor: User, member: User, **values: Any) -> User:
    """Change a member's role, active state or Slack user id (admins only).

    The workspace always keeps one active admin: the last one cannot be demoted or
    deactivated, by themselves or anyone. A deactivated member cannot log in (their
    sessions end at their next request) and their API tokens stop working until they
    are reactivated.
    """
    user_require_admin(actor, "change members")
    cleaned = specs_validate(MEMBER, values)
    # Lock the member's row, and the active admins' when the change may remove one, so
    # two admins demoting each other at once cannot leave the workspace without one.
    member = User.objects.select_for_update().get(pk=member.pk)
    before = {name: getattr(member, name) for name in cleaned}
    removes_admin = member.is_admin and (
        cleaned.get("role", member.role) != Role.ADMIN or cleaned.get("is_active") is False
    )
    if removes_admin:
        admins = User.objects.select_for_update().filter(role=Role.ADMIN, is_active=True)
        if not set(admins.exclude(pk=member.pk).values_list("pk", flat=True)):
            who = "You are" if member.pk == actor.pk else f"{member.display_name} is"
            raise Conflict(
                f"{who} the last active admin: make another member an admin first.",
                field="role" if "role" in cleaned else "is_active",
            )
    slack_user_id = cleaned.get("slack_user_id")
    if slack_user_id:
        holder = User.objects.filter(slack_user_id=slack_user_id).exclude(pk=member.pk).first()
        if holder is not None:
            raise Conflict(
                f"The Slack user {slack_user_id} is already linked to {holder.display_name}.",
                field="slack_user_id",
            )
    for name, value in cleaned.items():
        setattr(member, name, value)
    if "role" in cleaned:
        member.is_staff = member.role == Role.ADMIN  # admins may also use the Django admin
    after = {name: getattr(member, name) for name in cleaned}
    changes = audit_changes(before, after)
    if changes:
        member.save(update_fields=[*cleaned, *(["is_staff"] if "role" in cleaned else [])])
        audit_record(actor=actor, action="user.update", obj=member, changes=changes)
    return member


def api_token_create(
    *,
    user: User,
    name: str = "",
    expires_at: datetime | None = None,
    actor: User | None = None,
) -> tuple[ApiToken, str]:
    """Create a personal API token and return it with its secret, shown only once.

    A member creates their own tokens (*actor* is *user*), which the audit log records;
    without an *actor* the server's operator makes it on the member's behalf
    (`manage.py create_api_token`, fixtures, benchmarks).
    """
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied("A member can only create API tokens for themselves.")
    if not user.is_active:
        raise PermissionDenied("A deactivated member cannot have API tokens.")
    name = TOKEN_NAME.validate(name)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            digest=_token_digest(raw),
            expires_at=expires_at,
        )
        if actor is not None:  # a member's own action; the server's operator is not audited
            audit_record(
                actor=actor,
                action="api_token.create",
                obj=token,
                changes={"name": {"before": None, "after": name or token.prefix}},
            )
    return token, raw


def api_token_authenticate(raw: str) -> User | None:
    """Return the active user a bearer token belongs to, or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    # The digest is unique: no ordering to build on every API call.
    token = next(
        iter(
            ApiToken.objects.select_related("user")
            .filter(digest=_token_digest(raw), revoked_at__isnull=True, user__is_active=True)
            .order_by()[:1]
        ),
        None,
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


def api_token_revoke(*, token: ApiToken, actor: User | None = None) -> None:
    """Revoke a token; it stops working at once. Revoking it again changes nothing.

    A member revokes only their own tokens: anyone else's answers as not found, so
    token ids reveal nothing. Without an *actor* the system revokes it.
    """
    if actor is not None and actor.pk != token.user_id:
        raise NotFound("No such API token.")
    now = timezone.now()
    with transaction.atomic():
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
            token.revoked_at = now
            audit_record(
                actor=actor,
                action="api_token.revoke",
                obj=token,
                changes={"revoked_at": {"before": None, "after": now.isoformat()}},
            )


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
    if User.objects.filter(slack_user_id=slack_user_id).exclude(pk=member.pk).exists():
        return None  # an admin linked that Slack user to another member
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

"""Inviting people by email, and joining through the link."""

import datetime
import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.audit.models import AuditEntry
from rapport.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from rapport.outbox.models import OutboxItem
from rapport.outbox.services import outbox_deliver_due
from rapport.users.models import Invitation, InvitationStatus, Role, User
from rapport.users.services import member_update
from rapport.users.services_invitations import (
    InvitationClosed,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_resend,
    invitation_revoke,
)

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-and-unusual-passphrase"  # noqa: S105 (test value)


def _sent_link() -> str:
    """Deliver the outbox as the worker does; return the link in the newest email."""
    outbox_deliver_due()
    match = re.search(r"https?://\S+/invitations/(\S+)/", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_an_invitation_emails_a_link_that_is_stored_only_as_a_digest(
    admin_user: User, settings: Any
) -> None:
    settings.SITE_URL = "http://127.0.0.1:8000"
    invitation, raw = invitation_create(
        actor=admin_user, email=" Jane@Example.TEST ", name="Jane", role=Role.ADMIN
    )
    assert (invitation.email, invitation.name, invitation.role) == (
        "jane@example.test",
        "Jane",
        Role.ADMIN,
    )
    assert invitation.invited_by == admin_user
    assert invitation.status == InvitationStatus.PENDING
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert raw not in [str(value) for value in stored.values()]
    assert stored["digest"] == hashlib.sha256(raw.encode()).hexdigest()
    # Seven days by default.
    lifetime = invitation.expires_at - invitation.sent_at
    assert lifetime == datetime.timedelta(days=7)

    # The email goes through the outbox, after the commit, to the invitee.
    assert OutboxItem.objects.filter(action="email.send").count() == 1
    assert _sent_link() == raw
    email = mail.outbox[-1]
    assert email.to == ["jane@example.test"]
    assert email.subject == "Ada Admin invited you to Rapport"
    assert f"http://127.0.0.1:8000/invitations/{raw}/" in email.body
    assert "as an admin" in email.body
    entry = AuditEntry.objects.get(action="invitation.create")
    assert entry.actor == admin_user
    assert entry.changes["email"]["after"] == "jane@example.test"


def test_the_link_lifetime_and_address_come_from_settings(admin_user: User, settings: Any) -> None:
    settings.INVITATION_DAYS = 2
    settings.SITE_URL = "https://cs.example.com/"
    invitation, raw = invitation_create(actor=admin_user, email="jane@example.test")
    assert invitation.expires_at - invitation.sent_at == datetime.timedelta(days=2)
    outbox_deliver_due()
    assert f"https://cs.example.com/invitations/{raw}/" in mail.outbox[-1].body


def test_only_an_admin_invites(member_user: User) -> None:
    with pytest.raises(PermissionDenied, match="Only an admin can invite members"):
        invitation_create(actor=member_user, email="jane@example.test")
    assert not Invitation.objects.exists()
    assert not OutboxItem.objects.exists()


@pytest.mark.parametrize(
    ("email", "role", "field"),
    [
        ("", Role.MEMBER, "email"),
        ("not-an-email", Role.MEMBER, "email"),
        ("jane@example.test", "owner", "role"),
        ("x" * 250 + "@example.test", Role.MEMBER, "email"),
    ],
)
def test_bad_invitations_are_refused(admin_user: User, email: str, role: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        invitation_create(actor=admin_user, email=email, role=role)
    assert refused.value.field == field
    assert not Invitation.objects.exists()


def test_inviting_a_member_is_refused_clearly(
    admin_user: User, member_user: User, make_user: Callable[..., User]
) -> None:
    with pytest.raises(Conflict, match="member@example.test is already a member"):
        invitation_create(actor=admin_user, email="MEMBER@example.test")
    gone = make_user("gone@example.test")
    member_update(actor=admin_user, member=gone, is_active=False)
    with pytest.raises(Conflict, match="deactivated member: reactivate them instead"):
        invitation_create(actor=admin_user, email="gone@example.test")
    assert not Invitation.objects.exists()


def test_an_email_has_one_open_invitation_and_an_expired_one_is_replaced(
    admin_user: User,
) -> None:
    first, _ = invitation_create(actor=admin_user, email="jane@example.test")
    with pytest.raises(Conflict, match="already invited"):
        invitation_create(actor=admin_user, email="jane@example.test")
    Invitation.objects.filter(pk=first.pk).update(expires_at=timezone.now())
    second, raw = invitation_create(actor=admin_user, email="jane@example.test")
    first.refresh_from_db()
    assert first.status == InvitationStatus.REVOKED
    assert invitation_for_token(raw) == second


def test_the_link_opens_its_invitation_and_nothing_else(admin_user: User) -> None:
    invitation, raw = invitation_create(actor=admin_user, email="jane@example.test")
    assert invitation_for_token(raw) == invitation
    for bad in ("", raw[:-1], raw + "x", "x" * 500, raw.upper()):
        with pytest.raises(NotFound):
            invitation_for_token(bad)


def test_accepting_creates_the_member_with_the_invited_role(admin_user: User) -> None:
    invitation, raw = invitation_create(
        actor=admin_user, email="jane@example.test", name="J", role=Role.ADMIN
    )
    member = invitation_accept(raw=raw, name=" Jane Doe ", password=NEW_PASSWORD)
    assert (member.email, member.name, member.role, member.is_active) == (
        "jane@example.test",
        "Jane Doe",
        Role.ADMIN,
        True,
    )
    assert authenticate(username="jane@example.test", password=NEW_PASSWORD) == member
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.user == member
    assert AuditEntry.objects.filter(action="invitation.accept", actor=member).exists()


def test_a_link_works_once(admin_user: User) -> None:
    _, raw = invitation_create(actor=admin_user, email="jane@example.test")
    invitation_accept(raw=raw, name="Jane", password=NEW_PASSWORD)
    with pytest.raises(InvitationClosed, match="already used") as closed:
        invitation_accept(raw=raw, name="Mallory", password=NEW_PASSWORD + "2")
    assert closed.value.status == 410
    assert User.objects.get(email="jane@example.test").name == "Jane"


def test_an_expired_link_is_refused(admin_user: User) -> None:
    invitation, raw = invitation_create(actor=admin_user, email="jane@example.test")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with pytest.raises(InvitationClosed, match="expired on"):
        invitation_accept(raw=raw, name="Jane", password=NEW_PASSWORD)
    assert not User.objects.filter(email="jane@example.test").exists()


def test_a_revoked_link_is_refused(admin_user: User) -> None:
    invitation, raw = invitation_create(actor=admin_user, email="jane@example.test")
    invitation_revoke(actor=admin_user, invitation=invitation)
    with pytest.raises(InvitationClosed, match="withdrawn"):
        invitation_accept(raw=raw, name="Jane", password=NEW_PASSWORD)
    assert not User.objects.filter(email="jane@example.test").exists()
    assert AuditEntry.objects.filter(action="invitation.revoke").count() == 1
    with pytest.raises(Conflict, match="was revoked"):
        invitation_revoke(actor=admin_user, invitation=invitation)


def test_sending_again_makes_a_new_link_and_voids_the_old_one(admin_user: User) -> None:
    invitation, old = invitation_create(actor=admin_user, email="jane@example.test")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    _, new = invitation_resend(actor=admin_user, invitation=invitation)
    assert _sent_link() == new
    assert len(mail.outbox) == 2  # the first email and the new one
    with pytest.raises(NotFound):
        invitation_for_token(old)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING  # a fresh week
    assert invitation_accept(raw=new, name="Jane", password=NEW_PASSWORD).email == (
        "jane@example.test"
    )
    with pytest.raises(Conflict, match="already accepted"):
        invitation_resend(actor=admin_user, invitation=invitation)


def test_members_cannot_resend_or_revoke(admin_user: User, member_user: User) -> None:
    invitation, raw = invitation_create(actor=admin_user, email="jane@example.test")
    with pytest.raises(PermissionDenied):
        invitation_resend(actor=member_user, invitation=invitation)
    with pytest.raises(PermissionDenied):
        invitation_revoke(actor=member_user, invitation=invitation)
    assert invitation_for_token(raw) == invitation


@pytest.mark.parametrize(
    ("name", "password", "field", "message"),
    [
        ("Jane", "short", "password", "too short"),
        ("Jane", "password123", "password", "too common"),
        ("Jane", "jane@example.test", "password", "too similar"),
        ("", NEW_PASSWORD, "name", "Enter your name"),
        ("J" * 151, NEW_PASSWORD, "name", "at most 150"),
    ],
)
def test_a_weak_password_or_no_name_is_refused_and_the_link_still_works(
    admin_user: User, name: str, password: str, field: str, message: str
) -> None:
    invitation, raw = invitation_create(actor=admin_user, email="jane@example.test")
    with pytest.raises(InvalidInput, match=message) as refused:
        invitation_accept(raw=raw, name=name, password=password)
    assert refused.value.field == field
    assert not User.objects.filter(email="jane@example.test").exists()
    assert invitation_for_token(raw) == invitation


def test_an_email_that_got_a_login_meanwhile_cannot_join_twice(
    admin_user: User, make_user: Callable[..., User]
) -> None:
    invitation, raw = invitation_create(actor=admin_user, email="jane@example.test")
    make_user("jane@example.test", name="Jane from manage.py")
    with pytest.raises(Conflict, match="already has a Rapport login"):
        invitation_accept(raw=raw, name="Jane", password=NEW_PASSWORD)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_an_inviter_name_with_a_line_break_still_makes_a_one_line_subject(
    admin_user: User,
) -> None:
    User.objects.filter(pk=admin_user.pk).update(name="Ada\r\nBcc: evil@example.test")
    admin_user.refresh_from_db()
    invitation_create(actor=admin_user, email="jane@example.test")
    outbox_deliver_due()
    [email] = mail.outbox
    assert email.subject == "Ada Bcc: evil@example.test invited you to Rapport"
    assert email.to == ["jane@example.test"] and not email.bcc
    assert OutboxItem.objects.get().status == "sent"


def test_the_database_keeps_one_open_invitation_per_email(admin_user: User) -> None:
    """Two admins inviting at once: the constraint, not a check in Python, closes the race."""
    invitation, _ = invitation_create(actor=admin_user, email="jane@example.test")
    now = timezone.now()
    twin = {"email": "jane@example.test", "sent_at": now, "expires_at": now}
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(digest="0" * 64, **twin)
    invitation_revoke(actor=admin_user, invitation=invitation)
    Invitation.objects.create(digest="1" * 64, **twin)  # a revoked one does not count

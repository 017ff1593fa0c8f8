"""The Team settings page: members, their roles and Slack ids, and invitations (admins)."""

import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rapport.audit.models import AuditEntry
from rapport.audit.selectors import audit_entries_recent
from rapport.core.errors import InvalidInput, ServiceError
from rapport.core.specs import FieldSpec
from rapport.core.web import HtmxLoginRequiredMixin, form_add_service_error
from rapport.users import selectors
from rapport.users.forms import InvitationForm, MemberFieldForm, member_forms
from rapport.users.models import Role, User
from rapport.users.services import member_update, user_require_admin
from rapport.users.services_invitations import (
    invitation_create,
    invitation_resend,
    invitation_revoke,
)
from rapport.users.specs import IS_ACTIVE, IS_CSM, ROLE, SLACK_USER_ID

TEAM_AUDIT_TYPES = ["users.user", "users.invitation"]
# How the team's history says each change, and names each field.
ACTION_VERBS = {
    "user.update": "changed",
    "user.create": "joined as",
    "user.link_slack": "linked to Slack",
    "invitation.create": "invited",
    "invitation.resend": "sent a new link to",
    "invitation.revoke": "revoked the invitation of",
    "invitation.accept": "accepted the invitation of",
}
FIELD_LABELS = {
    "role": "Role",
    "is_active": "Active",
    "slack_user_id": "Slack user id",
    "email": "Email",
    "expires_at": "Link expires",
    "revoked_at": "Revoked",
    "accepted_at": "Accepted",
}


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:  # a moment, stored as ISO 8601
            return f"{datetime.datetime.fromisoformat(value):%Y-%m-%d %H:%M} UTC"
        except ValueError:
            pass
    return "" if value is None else str(value)


def _history(entries: list[AuditEntry]) -> list[dict[str, Any]]:
    """Return the team's audit entries as the page says them."""
    return [
        {
            "actor": entry.actor_label,
            "verb": ACTION_VERBS.get(entry.action, entry.action),
            "object": entry.object_label.removeprefix("Invitation of "),
            "created_at": entry.created_at,
            "changes": [
                (
                    FIELD_LABELS.get(name, name),
                    _shown(change.get("before")),
                    _shown(change.get("after")),
                )
                for name, change in entry.changes.items()
            ],
        }
        for entry in entries
    ]


def _admin(request: HttpRequest) -> User:
    actor = selectors.actor_get(request)
    user_require_admin(actor, "manage the team")  # a member gets the 403 page
    return actor


def _page(
    request: HttpRequest,
    *,
    invite_form: InvitationForm | None = None,
    bound: MemberFieldForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    rows: list[dict[str, Any]] = []
    for member in selectors.members_list():
        is_bound = bound is not None and bound.member.pk == member.pk
        forms = member_forms(member)
        if is_bound:
            assert bound is not None
            forms[bound.spec.name] = bound
        rows.append({"member": member, "forms": forms, "open": is_bound})
    context = {
        "rows": rows,
        "invitations": list(selectors.invitations_open()),
        "invite_form": invite_form or InvitationForm(),
        "history": _history(list(audit_entries_recent(TEAM_AUDIT_TYPES, limit=15))),
        "invitation_days": settings.INVITATION_DAYS,
        "error": error,
    }
    return render(request, "users/team.html", context, status=status)


class TeamView(HtmxLoginRequiredMixin):
    """List members and open invitations; POST invites someone by email."""

    def get(self, request: HttpRequest) -> HttpResponse:
        _admin(request)
        return _page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        actor = _admin(request)
        form = InvitationForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                invitation, _ = invitation_create(actor=actor, **form.cleaned_data)
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    f"Invited {invitation.email}: the email with their link is on its way. "
                    f"The link works for {settings.INVITATION_DAYS} days.",
                )
                return redirect("users:team")
        return _page(request, invite_form=form, status=status)


class MemberFieldView(HtmxLoginRequiredMixin):
    """Change one member's role or Slack user id (admins)."""

    spec: FieldSpec = ROLE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        actor = _admin(request)
        member = selectors.member_get(pk)
        form = MemberFieldForm(self.spec, member, request.POST)
        status = 400
        if form.is_valid():
            value = form.cleaned_data[self.spec.name]
            try:
                member = member_update(actor=actor, member=member, **{self.spec.name: value})
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _saved(self.spec, member))
                return _after_change(actor, member)
        return _page(request, bound=form, status=status)


def _after_change(actor: User, member: User) -> HttpResponse:
    """Go back to the Team page, or to the Settings page for an admin who stepped down."""
    if member.pk == actor.pk and not member.is_admin:
        return redirect("settings")  # the Team page is for admins; a deactivated one logs in
    return redirect("users:team")


def _saved(spec: FieldSpec, member: User) -> str:
    if spec is IS_CSM:
        return f"{member.display_name} {'is' if member.is_csm else 'is no longer'} a CSM."
    if spec is SLACK_USER_ID:
        if member.slack_user_id:
            return f"Linked {member.display_name} to the Slack user {member.slack_user_id}."
        return f"{member.display_name} is no longer linked to a Slack user."
    return (
        f"{member.display_name} is now {'an admin' if member.role == Role.ADMIN else 'a member'}."
    )


class MemberActiveView(HtmxLoginRequiredMixin):
    """Deactivate a member, or reactivate them (admins)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        actor = _admin(request)
        member = selectors.member_get(pk)
        raw = request.POST.get("is_active", "")
        try:
            if raw not in ("on", "off"):
                raise InvalidInput("Say whether the member is active: is_active=on or off.")
            member = member_update(actor=actor, member=member, is_active=IS_ACTIVE.parse(raw))
        except ServiceError as exc:
            return _page(request, error=exc.message, status=exc.status)
        if member.is_active:
            messages.success(request, f"Reactivated {member.display_name}.")
        else:
            messages.success(
                request,
                f"Deactivated {member.display_name}: they can no longer log in, and their "
                "API tokens stop working.",
            )
        return _after_change(actor, member)


class InvitationResendView(HtmxLoginRequiredMixin):
    """Email a new link for an invitation; the previous link stops working (admins)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        actor = _admin(request)
        invitation = selectors.invitation_get(pk)
        try:
            invitation, _ = invitation_resend(actor=actor, invitation=invitation)
        except ServiceError as exc:
            return _page(request, error=exc.message, status=exc.status)
        messages.success(
            request,
            f"Sent {invitation.email} a new link; the previous one no longer works.",
        )
        return redirect("users:team")


class InvitationRevokeView(HtmxLoginRequiredMixin):
    """Withdraw an invitation; its link stops working at once (admins)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        actor = _admin(request)
        invitation = selectors.invitation_get(pk)
        try:
            invitation = invitation_revoke(actor=actor, invitation=invitation)
        except ServiceError as exc:
            return _page(request, error=exc.message, status=exc.status)
        messages.success(request, f"Revoked the invitation of {invitation.email}.")
        return redirect("users:team")

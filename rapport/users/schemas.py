"""Shapes of members, invitations and API tokens in the JSON API."""

import datetime
from typing import Any

from ninja import Field, Schema

from rapport.core.spec_schemas import schema_field, schema_model, specs_fields
from rapport.users.models import ApiToken, Invitation, Role, User
from rapport.users.specs import INVITATION_SPECS, MEMBER_SPECS, ROLE, TOKEN_SPECS


class MemberRefOut(Schema):
    id: int
    email: str
    name: str


class MemberOut(Schema):
    id: int
    email: str
    name: str
    role: str
    is_active: bool = Field(description="False once deactivated: no login, no API tokens.")
    slack_user_id: str = Field(description="Empty when the member is not linked to Slack.")
    is_csm: bool = Field(description="Accounts can be assigned to them as CSM.")
    date_joined: datetime.datetime
    last_login: datetime.datetime | None


class MemberListOut(Schema):
    items: list[MemberOut]
    count: int


_MemberPatchFields: Any = schema_model(
    "MemberPatchFields", __name__, specs_fields(MEMBER_SPECS, schema_field, patch=True), base=Schema
)


class MemberPatchIn(_MemberPatchFields):
    """Any of a member's role, active state and Slack user id (null unlinks Slack)."""


class InvitationOut(Schema):
    id: int
    email: str
    name: str
    role: str
    status: str = Field(description="pending, expired, accepted or revoked.")
    invited_by: MemberRefOut | None
    created_at: datetime.datetime
    sent_at: datetime.datetime
    expires_at: datetime.datetime


class InvitationListOut(Schema):
    items: list[InvitationOut]
    count: int


_invitation_fields = specs_fields(INVITATION_SPECS, schema_field)
# A role is required on a member, but an invitation may leave it out to invite a member.
_invitation_fields["role"] = (
    _invitation_fields["role"][0],
    Field(Role.MEMBER.value, description=ROLE.help),
)
_InvitationInFields: Any = schema_model(
    "InvitationInFields", __name__, _invitation_fields, base=Schema
)


class InvitationIn(_InvitationInFields):
    """Whom to invite: the link is emailed to them and works once."""


class ApiTokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it.")
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None = Field(description="Updated at most once a minute.")
    expires_at: datetime.datetime | None


class ApiTokenCreatedOut(ApiTokenOut):
    token: str = Field(description="The secret: shown in this answer only.")


class ApiTokenListOut(Schema):
    items: list[ApiTokenOut]
    count: int


_ApiTokenInFields: Any = schema_model(
    "ApiTokenInFields", __name__, specs_fields(TOKEN_SPECS, schema_field), base=Schema
)


class ApiTokenIn(_ApiTokenInFields):
    """A new personal token; without `expires_at` it works until revoked."""

    expires_at: datetime.datetime | None = Field(
        None, description="A future moment with its time zone, such as 2027-01-31T00:00:00Z."
    )


def member_out(member: User) -> dict[str, Any]:
    return {
        "id": member.pk,
        "email": member.email,
        "name": member.name,
        "role": member.role,
        "is_active": member.is_active,
        "slack_user_id": member.slack_user_id,
        "is_csm": member.is_csm,
        "date_joined": member.date_joined,
        "last_login": member.last_login,
    }


def invitation_out(invitation: Invitation) -> dict[str, Any]:
    by = invitation.invited_by
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "name": invitation.name,
        "role": invitation.role,
        "status": str(invitation.status),
        "invited_by": {"id": by.pk, "email": by.email, "name": by.name} if by else None,
        "created_at": invitation.created_at,
        "sent_at": invitation.sent_at,
        "expires_at": invitation.expires_at,
    }


def api_token_out(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
    }

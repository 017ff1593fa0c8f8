"""The team and API token endpoints: a thin face over the users services and selectors.

Every member manages their own tokens under `/tokens`; admins manage the team under
`/members` and `/invitations`, as on the Team settings page.
"""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from rapport.core.api_errors import error_responses
from rapport.core.errors import InvalidInput
from rapport.core.filters import PageQuery
from rapport.users import selectors
from rapport.users.schemas import (
    ApiTokenCreatedOut,
    ApiTokenIn,
    ApiTokenListOut,
    InvitationIn,
    InvitationListOut,
    InvitationOut,
    MemberListOut,
    MemberOut,
    MemberPatchIn,
    api_token_out,
    invitation_out,
    member_out,
)
from rapport.users.services import (
    api_token_create,
    api_token_revoke,
    member_update,
    user_require_admin,
)
from rapport.users.services_invitations import (
    invitation_create,
    invitation_resend,
    invitation_revoke,
)

tokens_router = Router(tags=["api tokens"])
members_router = Router(tags=["team"])
invitations_router = Router(tags=["team"])


# --- own API tokens ------------------------------------------------------------------------


@tokens_router.get("", response=ApiTokenListOut, summary="List your API tokens")
def api_token_list(request: HttpRequest) -> dict[str, Any]:
    """Your tokens that were not revoked, newest first."""
    tokens = [api_token_out(t) for t in selectors.api_tokens_of(selectors.actor_get(request))]
    return {"items": tokens, "count": len(tokens)}


@tokens_router.post(
    "",
    response={201: ApiTokenCreatedOut, **error_responses(400, 403)},
    summary="Create an API token for yourself",
)
def api_token_create_api(request: HttpRequest, payload: ApiTokenIn) -> Status[dict[str, Any]]:
    """Answer the new token with its secret in `token`, which no later call shows."""
    expires_at = payload.expires_at
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            raise InvalidInput("expires_at needs a time zone, such as Z.", field="expires_at")
        if expires_at <= timezone.now():
            raise InvalidInput("expires_at must be in the future.", field="expires_at")
    actor = selectors.actor_get(request)
    token, raw = api_token_create(user=actor, actor=actor, name=payload.name, expires_at=expires_at)
    return Status(201, api_token_out(token) | {"token": raw})


@tokens_router.delete(
    "/{token_id}",
    response={204: None, **error_responses(403, 404)},
    summary="Revoke one of your API tokens",
)
def api_token_revoke_api(request: HttpRequest, token_id: int) -> Status[None]:
    """The token stops working at once; another member's token answers 404."""
    actor = selectors.actor_get(request)
    api_token_revoke(token=selectors.api_token_of(actor, token_id), actor=actor)
    return Status(204, None)


# --- the team (admins) ---------------------------------------------------------------------


@members_router.get(
    "", response={200: MemberListOut, **error_responses(403)}, summary="List members (admins)"
)
def member_list(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    user_require_admin(selectors.actor_get(request), "list members")
    members = selectors.members_list()
    page = members[query.offset : query.offset + query.limit]
    return {"items": [member_out(m) for m in page], "count": members.count()}


@members_router.get(
    "/{member_id}",
    response={200: MemberOut, **error_responses(403, 404)},
    summary="Get a member (admins)",
)
def member_get_api(request: HttpRequest, member_id: int) -> dict[str, Any]:
    user_require_admin(selectors.actor_get(request), "see members")
    return member_out(selectors.member_get(member_id))


@members_router.patch(
    "/{member_id}",
    response={200: MemberOut, **error_responses(400, 403, 404, 409)},
    summary="Change a member's role, active state or Slack user id (admins)",
    description="The last active admin can be neither demoted nor deactivated (409). A "
    "deactivated member cannot log in and their API tokens stop working.",
)
def member_patch(request: HttpRequest, member_id: int, payload: MemberPatchIn) -> dict[str, Any]:
    actor = selectors.actor_get(request)
    user_require_admin(actor, "change members")  # before a lookup, so ids reveal nothing
    member = member_update(
        actor=actor,
        member=selectors.member_get(member_id),
        **payload.model_dump(exclude_unset=True),
    )
    return member_out(member)


@invitations_router.get(
    "",
    response={200: InvitationListOut, **error_responses(403)},
    summary="List open invitations (admins)",
)
def invitation_list(request: HttpRequest) -> dict[str, Any]:
    """Invitations not yet accepted nor revoked, expired ones included, newest first."""
    user_require_admin(selectors.actor_get(request), "list invitations")
    invitations = [invitation_out(i) for i in selectors.invitations_open()]
    return {"items": invitations, "count": len(invitations)}


@invitations_router.post(
    "",
    response={201: InvitationOut, **error_responses(400, 403, 409)},
    summary="Invite someone by email (admins)",
    description="Emails a link that works once, for `INVITATION_DAYS` days. An email that "
    "belongs to a member, or that has an invitation open, answers 409.",
)
def invitation_create_api(request: HttpRequest, payload: InvitationIn) -> Status[dict[str, Any]]:
    invitation, _ = invitation_create(actor=selectors.actor_get(request), **payload.model_dump())
    return Status(201, invitation_out(invitation))


@invitations_router.post(
    "/{invitation_id}/resend",
    response={200: InvitationOut, **error_responses(403, 404, 409)},
    summary="Email a new link for an invitation (admins); the previous link stops working",
)
def invitation_resend_api(request: HttpRequest, invitation_id: int) -> dict[str, Any]:
    actor = selectors.actor_get(request)
    user_require_admin(actor, "invite members")
    invitation, _ = invitation_resend(
        actor=actor, invitation=selectors.invitation_get(invitation_id)
    )
    return invitation_out(invitation)


@invitations_router.delete(
    "/{invitation_id}",
    response={204: None, **error_responses(403, 404, 409)},
    summary="Revoke an invitation (admins)",
)
def invitation_revoke_api(request: HttpRequest, invitation_id: int) -> Status[None]:
    actor = selectors.actor_get(request)
    user_require_admin(actor, "revoke invitations")
    invitation_revoke(actor=actor, invitation=selectors.invitation_get(invitation_id))
    return Status(204, None)

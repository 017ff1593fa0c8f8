"""Reads of workspace members, their invitations and their API tokens."""

from django.db.models import QuerySet
from django.http import HttpRequest

from rapport.core.errors import NotFound
from rapport.users.models import ApiToken, Invitation, User


def actor_get(request: HttpRequest) -> User:
    """Return the member who sent *request*.

    A login-required view, or the API's authentication (a token or a session, which sets
    `request.user`), has checked there is one.
    """
    user = request.user
    assert isinstance(user, User), "authentication runs before the view."
    return user


def members_list() -> QuerySet[User]:
    """Every member, active ones first, by name."""
    return User.objects.order_by("-is_active", "name", "email")


def member_get(pk: int) -> User:
    member = User.objects.filter(pk=pk).first()
    if member is None:
        raise NotFound(f"No member with id {pk}.")
    return member


def invitations_open() -> QuerySet[Invitation]:
    """The invitations not yet accepted nor revoked (expired ones too), newest first."""
    return Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")


def invitation_get(pk: int) -> Invitation:
    invitation = Invitation.objects.select_related("invited_by").filter(pk=pk).first()
    if invitation is None:
        raise NotFound(f"No invitation with id {pk}.")
    return invitation


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """The member's tokens that were not revoked, newest first."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by(
        "-created_at", "-id"
    )


def api_token_of(user: User, pk: int) -> ApiToken:
    """Return one of *user*'s tokens; another member's token answers as not found."""
    token = ApiToken.objects.filter(user=user, pk=pk).first()
    if token is None:
        raise NotFound("No such API token.")
    return token

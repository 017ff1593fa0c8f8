"""Reads of workspace members."""

from django.http import HttpRequest

from rapport.users.models import User


def actor_get(request: HttpRequest) -> User:
    """Return the member who sent *request*.

    A login-required view, or the API's authentication (a token or a session, which sets
    `request.user`), has checked there is one.
    """
    user = request.user
    assert isinstance(user, User), "authentication runs before the view."
    return user

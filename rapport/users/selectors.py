"""Reads of workspace members."""

from django.http import HttpRequest

from rapport.users.models import User


def actor_get(request: HttpRequest) -> User:
    """Return the member who sent *request*; a login-required view has checked there is one."""
    user = request.user
    assert isinstance(user, User), "HtmxLoginRequiredMixin runs before the view."
    return user

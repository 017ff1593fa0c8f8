"""What the request pages share: the member asking, query strings and safe redirects.

The pages themselves live in `views_board` (board, column pages, moves, queue),
`views_detail` (a request and its actions), `views_settings` and `views_csat`. Views
stay thin: a filter set or form parses, a service writes, a selector reads, a template
renders. A ServiceError becomes a message on the page that caused it.
"""

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from rapport.users.models import User


def actor_get(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User), "HtmxLoginRequiredMixin runs before the view."
    return user


def url_with_query(name: str, query: dict[str, Any], *args: Any) -> str:
    encoded = urlencode({k: v for k, v in query.items() if v not in (None, "", [])}, doseq=True)
    return reverse(name, args=args) + (f"?{encoded}" if encoded else "")


def next_url(request: HttpRequest, default: str) -> str:
    """Return the page to go back to after a POST: a local `next`, or *default*."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default

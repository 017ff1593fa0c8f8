"""Answer a throttled sign-in with a 429 page that says when to try again."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from rapport.users.services_throttle import LoginThrottled


class LoginThrottleMiddleware:
    """Turn LoginThrottled, raised while a sign-in form authenticates, into a 429 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, LoginThrottled):
            return None
        response = render(
            request, "users/login_throttled.html", {"message": exception.message}, status=429
        )
        response["Retry-After"] = str(exception.retry_after)
        return response

"""How people sign in: email and password, throttled per client IP."""

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from rapport.core.client_ip import client_ip, client_ip_key
from rapport.users.models import User
from rapport.users.services_throttle import login_failure_record, login_throttle_check


class ThrottledModelBackend(ModelBackend):
    """Email and password, refused for a while after too many failures from one IP.

    Every sign-in form goes through `authenticate()`, so the web login and the admin
    login are throttled alike. A blocked attempt raises LoginThrottled before the
    password is checked (the answer must not tell whether it was right); the
    middleware `LoginThrottleMiddleware` turns it into a 429 page.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if request is None:  # not a sign-in over HTTP: a shell, a test client's login()
            return super().authenticate(request, username, password, **kwargs)
        email = username if username is not None else kwargs.get("email")
        ip = client_ip_key(client_ip(request))
        login_throttle_check(ip=ip, email=email or "")
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            login_failure_record(ip=ip, email=email or "")
        return user

    async def aauthenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        """Throttle an asynchronous sign-in the same way, through the same checks."""
        return await sync_to_async(self.authenticate)(request, username, password, **kwargs)

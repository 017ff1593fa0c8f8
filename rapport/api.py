"""The JSON API under /api/v1/: authentication, error answers and the routers."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer, django_auth

from rapport.errors import ServiceError
from rapport.users.models import User
from rapport.users.services import api_token_authenticate


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer <personal API token>`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Rapport API",
    version="1",
    description=(
        "Accounts, contacts and fields of a Rapport workspace. Authenticate with a "
        "personal API token (`Authorization: Bearer ...`, see `manage.py create_api_token`) "
        "or a browser session. List endpoints answer `{items, count}` and take `limit` "
        "and `offset`."
    ),
    auth=[ApiTokenAuth(), django_auth],
    urls_namespace="api",
)


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    body: dict[str, Any] = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        location = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body",))
        problems.append(f"{location}: {error.get('msg')}" if location else str(error.get("msg")))
    return api.create_response(
        request,
        {"error": "; ".join(problems) or "Invalid input.", "details": exc.errors},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"error": "Authentication required: send a Bearer token or log in."},
        status=401,
    )


def _register_routers() -> None:
    from rapport.accounts.api import router as accounts_router
    from rapport.accounts.api import fields_router

    api.add_router("/accounts", accounts_router)
    api.add_router("/fields", fields_router)


_register_routers()

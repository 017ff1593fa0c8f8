"""The JSON API under /api/v1/: authentication, error answers and the routers."""

from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from rapport.core.api_errors import openapi_errors_add
from rapport.core.client_ip import client_ip, client_ip_key
from rapport.core.errors import InvalidInput, ServiceError, TooManyRequests
from rapport.ops.middleware import outage_response
from rapport.users.models import User
from rapport.users.services import api_token_authenticate
from rapport.users.services_throttle import login_failure_record, login_throttle_check


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer <personal API token>`.

    A bad token counts as a failed sign-in of the caller's IP, and an IP with too many
    gets 429 for a while (`rapport.users.services_throttle`). A valid token still
    works from such an IP: 256 random bits cannot be guessed, so it is no guess to
    slow down, and a good client behind the same network keeps working.
    """

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(token)
        if user is None:
            ip = client_ip_key(client_ip(request))
            login_throttle_check(ip=ip)
            login_failure_record(ip=ip)
            return None
        request.user = user
        return user


class BrowserSessionAuth(SessionAuth):
    """A logged-in browser session; unsafe methods also need Django's CSRF token.

    Without a logged-in session the scheme does not apply, so an anonymous client or
    a bad bearer token gets 401 rather than a CSRF 403.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(
                403,
                "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's value.",
            )
        return request.COOKIES.get(self.param_name)


_NUL_MESSAGE = "Text cannot contain NUL (\\u0000) characters."


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


class RapportParser(Parser):
    """Parse JSON bodies and query strings, refusing NUL characters.

    No text column can store NUL (PostgreSQL refuses it outright), so it is turned
    away at the door with a clear 400 rather than failing deep in a query.
    """

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if _contains_nul(data):
            raise InvalidInput(_NUL_MESSAGE)
        # Every JSON body the API takes is an object. Ninja would read a list, a string or
        # null as an object without fields, so a PATCH of `[]` changed nothing and said 200.
        # (Ninja also parses each JSON part of a multipart form here, on a stand-in request
        # without META; such a part may be any JSON value.)
        if request.META and not isinstance(data, dict):
            raise InvalidInput("The request body must be a JSON object.")
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        if any(_contains_nul(key) or _contains_nul(values) for key, values in data.lists()):
            raise InvalidInput(_NUL_MESSAGE)
        return super().parse_querydict(data, list_fields, request)


# Any operation that takes a token may answer this, before its own answers.
THROTTLED_RESPONSE = {
    "description": (
        "Too many failed sign-ins (bad API tokens or passwords) from the caller's IP: "
        "sign-ins from it are paused for 15 minutes."
    ),
    "headers": {
        "Retry-After": {
            "description": "Seconds until the IP may try again.",
            "schema": {"type": "integer"},
        }
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
}


class RapportApi(NinjaAPI):
    """The API, whose OpenAPI document also names the errors the framework answers.

    It adds 401, 422, 400, 413 and 503 where they can happen, and the 429 of a throttled
    IP to every secured call.
    """

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        openapi_errors_add(schema)
        for operations in schema["paths"].values():
            for operation in operations.values():
                if isinstance(operation, dict) and operation.get("security"):
                    operation["responses"].setdefault(429, THROTTLED_RESPONSE)
        return schema


api = RapportApi(
    title="Rapport API",
    version="1",
    description=(
        "Accounts, contacts and fields of a Rapport workspace. Authenticate with a "
        "personal API token (`Authorization: Bearer ...`, see `manage.py create_api_token`) "
        "or a browser session. List endpoints answer `{items, count}` and take `limit` "
        "and `offset`."
    ),
    auth=[ApiTokenAuth(), BrowserSessionAuth()],
    # The viewer's files come from django-ninja's static files (no CDN); no validator
    # badge, which Swagger UI would fetch from a public validator for any host but localhost.
    docs=Swagger(settings={"validatorUrl": None}),
    parser=RapportParser(),
    urls_namespace="api",
)


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    body: dict[str, Any] = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    response = api.create_response(request, body, status=exc.status)
    if isinstance(exc, TooManyRequests):
        response["Retry-After"] = str(exc.retry_after)
    return response


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


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, ServiceError):  # raised while parsing the body
        return service_error(request, exc.__cause__)
    message = exc.message
    if message == "Cannot parse request body":
        message = "The request body is not valid JSON."
    return api.create_response(request, {"error": message}, status=exc.status_code)


@api.exception_handler(MultiPartParserError)
def multipart_error(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return api.create_response(
        request,
        {"error": f"The multipart/form-data body cannot be read: {exc}."},
        status=400,
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"error": "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"error": "Authentication required: send a Bearer token or log in."},
        status=401,
    )


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_outage(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A database outage answers 503 with Retry-After, never a 500 (also with DEBUG on)."""
    return outage_response(request, exc)


def _register_routers() -> None:
    from rapport.accounts.api import fields_router
    from rapport.accounts.api import router as accounts_router
    from rapport.directory.api import routes_add as directory_routes_add
    from rapport.imports.api import router as imports_router
    from rapport.inbox.api import channels_router, conversations_router
    from rapport.integrations.api.api import router as tickets_router
    from rapport.integrations.email.api import router as inbound_email_router
    from rapport.mapping.api import router as mapping_router
    from rapport.metrics.api import router as metrics_router
    from rapport.onboarding.api import router as onboarding_router
    from rapport.onboarding.api import tasks_router
    from rapport.requests.api import router as requests_router
    from rapport.requests.api import settings_router as request_settings_router
    from rapport.users.api import invitations_router, members_router, tokens_router

    directory_routes_add(accounts_router)
    api.add_router("/accounts", accounts_router)
    api.add_router("/fields", fields_router)
    api.add_router("", tickets_router)
    api.add_router("", inbound_email_router)
    api.add_router("/conversations", conversations_router)
    api.add_router("/channels", channels_router)
    api.add_router("/mapping", mapping_router)
    api.add_router("/onboarding", onboarding_router)
    api.add_router("/imports", imports_router)
    api.add_router("/tasks", tasks_router)
    api.add_router("/requests", requests_router)
    api.add_router("/request-settings", request_settings_router)
    api.add_router("/metrics", metrics_router)
    api.add_router("/tokens", tokens_router)
    api.add_router("/members", members_router)
    api.add_router("/invitations", invitations_router)


_register_routers()

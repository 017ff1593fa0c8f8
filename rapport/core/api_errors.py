"""The JSON API's error answers, as every router declares and documents them.

An endpoint lists the errors its services answer in its `response`
(`{200: AccountOut, **error_responses(400, 404)}`). The errors that come from the
framework rather than from the endpoint are added to every operation they can happen
on by `openapi_errors_add`, so the OpenAPI document names every status the API answers:

- 401 on every operation that needs a token or a session;
- 422 where there is a parameter or a body to validate;
- 400 where there is a body (not JSON, not an object, NUL characters, a broken
  multipart form) or a query (NUL characters, a filter the filter set refuses);
- 413 where there is a body (over its limit, `rapport.core.limits`).
"""

from typing import Annotated, Any

from ninja import Field, Schema

# The largest id the API takes: below every integer column's range (SQLite and
# PostgreSQL bigint are 64-bit), so an id from a client never overflows a query.
ID_MAX = 2**62

RowId = Annotated[int, Field(ge=1, le=ID_MAX)]


class ErrorOut(Schema):
    """An error answer. A service's error may name the input it is about in `field`; a
    422 lists each invalid input, with where it is (`loc`), in `details`."""

    error: str


def error_responses(*codes: int) -> dict[int, type[ErrorOut]]:
    """Return `{code: ErrorOut}` for each of *codes*, for a ninja operation's `response`."""
    return dict.fromkeys(codes, ErrorOut)


_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    413: "Content Too Large",
    422: "Unprocessable Content",
    503: "Service Unavailable: the database is not answering; retry after Retry-After seconds",
}
_REF = "#/components/schemas/ErrorOut"


def _error(code: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS[code],
        "content": {"application/json": {"schema": {"$ref": _REF}}},
    }


def openapi_errors_add(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the framework's error answers to every operation of an OpenAPI *schema*."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        "ErrorOut", ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            has_body = "requestBody" in operation
            parameters = operation.get("parameters") or []
            codes = []
            if operation.get("security"):
                codes.append(401)
            if has_body or parameters:
                codes.append(422)
            if has_body or any(p.get("in") == "query" for p in parameters):
                codes.append(400)
            if has_body:
                codes.append(413)
            # Any operation reads the database; during an outage it answers 503.
            codes.append(503)
            for code in codes:
                responses.setdefault(code, _error(code))
    return schema

"""Request body limits: a body over its address's limit answers 413 and changes nothing."""

import io
import json
import re
from typing import Any

import pytest
from django.test import Client

from rapport.core.limits import body_limit_for, size_label

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def json_over(limit: int) -> bytes:
    """A valid JSON object one byte over *limit*."""
    head, tail = b'{"name": "', b'"}'
    return head + b"x" * (limit + 1 - len(head) - len(tail)) + tail


def json_write_operations(client: Client) -> list[tuple[str, str]]:
    """Every (method, path) of the API that takes a JSON body, ids filled in with 1."""
    document = client.get("/api/v1/openapi.json").json()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                found.append((method, re.sub(r"{[^}]+}", "1", path)))
    return found


def test_every_json_write_endpoint_answers_413_naming_the_limit(admin_api: Client) -> None:
    operations = json_write_operations(admin_api)
    assert len(operations) >= 14
    body = json_over(5 * MB)
    for method, path in operations:
        response = admin_api.generic(method.upper(), path, body, content_type="application/json")
        assert response.status_code == 413, (method, path, response.content[:200])
        assert response.json() == {
            "error": "The request body is over the limit of 5 MB for this address."
        }


def test_an_oversized_account_changes_nothing(admin_api: Client) -> None:
    response = admin_api.post("/api/v1/accounts", json_over(5 * MB), "application/json")
    assert response.status_code == 413
    assert admin_api.get("/api/v1/accounts").json()["count"] == 0


def test_a_body_at_the_limit_is_read(admin_api: Client) -> None:
    head = b'{"name": "Acme", "notes": "'
    body = head + b"x" * (5 * MB - len(head) - 2) + b'"}'
    assert len(body) == 5 * MB
    response = admin_api.post("/api/v1/accounts", body, "application/json")
    # Read and refused by the account's own rules (notes are short), not by the limit.
    assert response.status_code == 422
    assert "notes" in response.json()["error"]


def test_a_web_form_over_the_limit_answers_a_413_page(admin_client: Client) -> None:
    response = admin_client.post(
        "/accounts/new/",
        json_over(5 * MB),
        content_type="application/x-www-form-urlencoded",
        headers={"Accept": "text/html,application/xhtml+xml"},
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "over the limit of 5 MB" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/integrations/slack/events",
        "/integrations/slack/actions",
        "/integrations/slack/commands",
        "/webchat/api/pk_unknown/messages",
        "/login/",
    ],
)
def test_machine_endpoints_over_the_limit_answer_413_json(client: Client, path: str) -> None:
    response = client.post(path, json_over(5 * MB), content_type="application/json")
    assert response.status_code == 413
    assert "5 MB" in response.json()["error"]


def test_raw_email_takes_up_to_25_mb(admin_api: Client) -> None:
    response = admin_api.post(
        "/api/v1/inbound/email", b"x" * (25 * MB + 1), content_type="message/rfc822"
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": "The request body is over the limit of 25 MB for this address."
    }


def test_an_upload_takes_up_to_upload_max_bytes(
    admin_api: Client, settings: Any, media_root: object
) -> None:
    settings.UPLOAD_MAX_BYTES = 7 * MB
    account = admin_api.post("/api/v1/accounts", {"name": "Acme"}, "application/json").json()
    path = f"/api/v1/accounts/{account['id']}/logo"
    over_json_limit = io.BytesIO(b"\x89PNG" + b"\0" * (6 * MB))
    over_json_limit.name = "logo.png"

    response = admin_api.post(path, {"logo": over_json_limit})
    # Past the 5 MB of a JSON body: the logo's own limit answers.
    assert response.status_code == 400
    assert "logo" in response.json()["error"].lower()

    over_upload_limit = io.BytesIO(b"\x89PNG" + b"\0" * (7 * MB))
    over_upload_limit.name = "logo.png"
    response = admin_api.post(path, {"logo": over_upload_limit})
    assert response.status_code == 413
    assert "7 MB" in response.json()["error"]


def test_form_fields_past_django_s_limit_answer_413_not_400(
    admin_api: Client, settings: Any
) -> None:
    """A multipart form on an upload address may be larger than 5 MB, but its text fields
    may not: Django's own refusal (RequestDataTooBig) is a 413 too."""
    account = admin_api.post("/api/v1/accounts", {"name": "Acme"}, "application/json").json()
    response = admin_api.post(f"/api/v1/accounts/{account['id']}/logo", {"note": "x" * (6 * MB)})
    assert response.status_code == 413
    assert "5 MB" in response.json()["error"]


def test_a_content_length_that_is_no_number_answers_400(admin_api: Client) -> None:
    response = admin_api.post(
        "/api/v1/accounts", b"{}", content_type="application/json", CONTENT_LENGTH="-1"
    )
    assert response.status_code == 400
    assert "Content-Length" in response.json()["error"]


def test_a_chunked_body_without_a_length_answers_411(admin_api: Client) -> None:
    body = json.dumps({"name": "Acme"}).encode()
    # The environ of a chunked request, as a WSGI server hands it over: no length.
    environ: dict[str, Any] = {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
    }
    response = admin_api.post("/api/v1/accounts", body, content_type="application/json", **environ)
    assert response.status_code == 411
    assert "Content-Length" in response.json()["error"]
    assert admin_api.get("/api/v1/accounts").json()["count"] == 0


def test_limits_by_path(settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 30 * MB
    assert body_limit_for("/api/v1/accounts") == 5 * MB
    assert body_limit_for("/api/v1/inbound/email") == 25 * MB
    assert body_limit_for("/api/v1/accounts/12/logo") == 30 * MB
    assert body_limit_for("/api/v1/accounts/12/logo/x") == 5 * MB
    assert body_limit_for("/accounts/12/logo/edit/") == 30 * MB


@pytest.mark.parametrize(
    ("size", "label"),
    [(5 * MB, "5 MB"), (3 * MB // 2, "1.5 MB"), (64 * 1024, "64 KB"), (100, "100 bytes")],
)
def test_size_label(size: int, label: str) -> None:
    assert size_label(size) == label

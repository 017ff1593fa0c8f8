"""Bad input to the JSON API as a whole: every answer is a clear 4xx and changes nothing.

The operations come from the API's own OpenAPI document, so a new endpoint is covered
as soon as it exists.
"""

import json
import re
from typing import Any

import pytest
from django.test import Client

from rapport.accounts.tests.factories import make_account, make_channel
from rapport.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = "99999999999999999999"


def operations(client: Client) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path template, operation) the API documents."""
    document = client.get("/api/v1/openapi.json").json()
    return [
        (method, path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def filled(path: str, value: str) -> str:
    return re.sub(r"{[^}]+}", value, path)


@pytest.mark.parametrize("body", ["[]", '"x"', "null", "3", "true"])
def test_a_json_body_that_is_not_an_object_is_400_everywhere(admin_api: Client, body: str) -> None:
    account = make_account("Acme")
    with_json = [
        (method, path)
        for method, path, operation in operations(admin_api)
        if "application/json" in (operation.get("requestBody") or {}).get("content", {})
    ]
    assert len(with_json) >= 14
    for method, path in with_json:
        response = admin_api.generic(
            method.upper(), filled(path, str(account.pk)), body, content_type="application/json"
        )
        assert response.status_code == 400, (method, path, response.content)
        assert response.json() == {"error": "The request body must be a JSON object."}


@pytest.mark.parametrize("body", ["[]", "null", '"Globex"'])
def test_patching_an_account_with_no_object_changes_nothing(admin_api: Client, body: str) -> None:
    account = make_account("Acme", domain="acme.example")
    before = AuditEntry.objects.count()

    response = admin_api.patch(
        f"/api/v1/accounts/{account.pk}", body, content_type="application/json"
    )

    assert response.status_code == 400
    account.refresh_from_db()
    assert account.name == "Acme"
    assert AuditEntry.objects.count() == before


def test_a_multipart_body_without_a_boundary_is_400(admin_api: Client) -> None:
    account = make_account("Acme")
    response = admin_api.post(
        f"/api/v1/accounts/{account.pk}/logo",
        b"--x\r\nContent-Disposition: form-data; name=logo\r\n\r\nx\r\n--x--\r\n",
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "multipart" in response.json()["error"]


def test_ids_beyond_64_bits_in_the_path_are_404_everywhere(admin_api: Client) -> None:
    make_account("Acme")
    with_ids = [(m, p) for m, p, _ in operations(admin_api) if "{" in p and "domain" not in p]
    assert with_ids
    for method, path in with_ids:
        response = admin_api.generic(
            method.upper(), filled(path, BEYOND_64_BITS), "{}", content_type="application/json"
        )
        assert response.status_code in (404, 422), (method, path, response.content)
        assert response.json()["error"]


def test_linking_a_channel_to_an_id_beyond_64_bits_is_422(admin_api: Client) -> None:
    account = make_account("Acme")
    channel = make_channel("support", accounts=[account])

    response = admin_api.put(
        f"/api/v1/channels/{channel.pk}/accounts",
        json.dumps({"account_ids": [2**70]}),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert "account_ids" in response.json()["error"]
    assert list(channel.accounts.all()) == [account]


@pytest.mark.parametrize("value", ["²", "٣", "１", BEYOND_64_BITS, "-1"])
@pytest.mark.parametrize(
    "path", ["/api/v1/accounts", "/api/v1/requests", "/api/v1/conversations", "/api/v1/channels"]
)
def test_a_page_size_that_is_no_ascii_number_in_range_is_422(
    admin_api: Client, path: str, value: str
) -> None:
    for name in ("limit", "offset"):
        response = admin_api.get(path, {name: value})
        assert response.status_code == 422, (path, name, value)
        assert name in response.json()["error"]


@pytest.mark.parametrize("value", ["²", "٣", BEYOND_64_BITS])
@pytest.mark.parametrize("path", ["/accounts/", "/inbox/"])
def test_a_page_number_that_is_no_ascii_number_in_range_is_400(
    admin_client: Client, path: str, value: str
) -> None:
    response = admin_client.get(path, {"page": value})
    assert response.status_code == 400

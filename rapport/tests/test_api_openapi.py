"""The OpenAPI document names every status the API answers, with the error's shape."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_every_operation_documents_the_errors_the_framework_answers(client: Client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["components"]["schemas"]["ErrorOut"]["required"] == ["error"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            where = f"{method.upper()} {path}"
            assert "401" in codes, where  # every operation needs a token or a session
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= codes, where
            if "{" in path:
                assert "404" in codes or path.endswith("{domain}"), where
            for code in codes - {"200", "201", "202", "204"}:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (where, code)


def test_the_account_endpoints_document_their_services_errors(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/accounts"]["post"]["responses"]) == {
        "201", "400", "401", "403", "409", "413", "422", "429", "503",
    }  # fmt: skip
    assert set(paths["/api/v1/accounts/{account_id}"]["delete"]["responses"]) == {
        "204", "401", "403", "404", "422", "429", "503",
    }  # fmt: skip

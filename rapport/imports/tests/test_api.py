"""The imports API: multipart upload, the preview's pages, confirm, status, refusals."""

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rapport.accounts.models import Account
from rapport.imports.models import Import
from rapport.imports.services import import_run
from rapport.imports.tests.factories import csv_bytes, csv_row
from rapport.onboarding.models import Plan
from rapport.onboarding.tests.factories import shipped_templates
from rapport.outbox.models import OutboxItem
from rapport.users.models import User

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _templates(db: None) -> None:
    shipped_templates()


def _upload(api: Client, data: bytes, name: str = "accounts.csv", **fields: str) -> Any:
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return api.post("/api/v1/imports", {"file": file, **fields})


def _rows(count: int) -> bytes:
    return csv_bytes(
        csv_row(
            company_name=f"Company {n}", primary_contact_email=f"lead@company{n}.example", notes=""
        )
        for n in range(count)
    )


def test_an_upload_answers_201_with_the_counts_and_each_rows_outcome(member_api: Client) -> None:
    data = csv_bytes([csv_row(), csv_row(company_name="Beta", arr="lots")])
    response = _upload(member_api, data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "previewed"
    assert body["counts"] == {"total": 2, "create": 1, "update": 0, "skip": 0, "error": 1}
    assert [(r["line"], r["outcome"]) for r in body["rows"]] == [(2, "create"), (3, "error")]
    assert set(body["rows"][1]["errors"]) == {"arr", "primary_contact_email"}  # and a duplicate
    assert not Account.objects.exists()


def test_the_preview_carries_1000_rows_and_the_rest_are_paged(member_api: Client) -> None:
    body = _upload(member_api, _rows(1_005)).json()
    assert body["rows_count"] == 1_005 and len(body["rows"]) == 1_000
    rest = member_api.get(f"/api/v1/imports/{body['id']}?offset=1000&limit=1000").json()
    assert [row["line"] for row in rest["rows"]] == [1002, 1003, 1004, 1005, 1006]
    page = member_api.get(f"/api/v1/imports/{body['id']}/rows?offset=1003").json()
    assert page["count"] == 1_005 and [row["line"] for row in page["items"]] == [1005, 1006]


def test_confirm_runs_the_import_and_the_status_follows_it(
    member_api: Client, django_capture_on_commit_callbacks: Any
) -> None:
    upload_id = _upload(member_api, csv_bytes([csv_row()])).json()["id"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = member_api.post(f"/api/v1/imports/{upload_id}/confirm")
    assert response.status_code == 202
    assert response.json()["status"] == "running"
    assert callbacks  # the worker's task is enqueued once the confirm commits
    assert member_api.get(f"/api/v1/imports/{upload_id}").json()["progress"] == {
        "done": 0,
        "total": 1,
        "percent": 0,
    }
    import_run(upload_id)  # what the worker runs
    body = member_api.get(f"/api/v1/imports/{upload_id}").json()
    assert body["status"] == "done"
    assert body["progress"] == {"done": 1, "total": 1, "percent": 100}
    assert body["rows"][0]["account_id"] == Plan.objects.get().account_id
    again = member_api.post(f"/api/v1/imports/{upload_id}/confirm")
    assert again.status_code == 409 and "confirmed already" in again.json()["error"]


def test_a_missing_file_is_a_400(member_api: Client) -> None:
    response = member_api.post("/api/v1/imports", {"date_order": "iso"})
    assert response.status_code == 400
    assert response.json()["field"] == "file"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "not a CSV file"),
        (b"", "empty"),
        (b"just some words\nand more words\n", "no column for"),
    ],
)
def test_a_file_that_is_no_accounts_csv_is_a_400(
    member_api: Client, data: bytes, message: str
) -> None:
    response = _upload(member_api, data)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Import.objects.exists()


def test_a_zip_is_a_400_saying_to_export_csv(member_api: Client) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("accounts.csv", csv_bytes([csv_row()]))
    response = _upload(member_api, buffer.getvalue(), name="accounts.zip")
    assert response.status_code == 400
    assert "zip archive" in response.json()["error"]


def test_a_bad_date_order_or_template_is_a_400(member_api: Client) -> None:
    assert _upload(member_api, _rows(1), date_order="sideways").json()["field"] == "date_order"
    assert _upload(member_api, _rows(1), template="No such").json()["field"] == "template"


def test_a_body_over_the_upload_limit_is_a_413(member_api: Client, settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 2_000
    response = _upload(member_api, _rows(40))
    assert response.status_code == 413
    assert "limit" in response.json()["error"]


def test_anonymous_callers_get_401(client: Client) -> None:
    assert client.post("/api/v1/imports", {}).status_code == 401
    assert client.get("/api/v1/imports/1").status_code == 401


def test_an_import_is_visible_to_other_members(
    member_api: Client, admin_api: Client, admin_user: User
) -> None:
    upload_id = _upload(member_api, _rows(1)).json()["id"]
    assert admin_api.get(f"/api/v1/imports/{upload_id}").status_code == 200
    assert admin_api.get("/api/v1/imports/999999").status_code == 404


def test_a_messy_export_previews_with_row_errors_and_confirms_the_valid_rows(
    member_api: Client,
) -> None:
    data = (DATA / "messy_export.csv").read_bytes()
    response = _upload(member_api, data, name="messy_export.csv")
    assert response.status_code == 201, response.content
    body = response.json()
    outcomes = {row["line"]: row["outcome"] for row in body["rows"]}
    assert outcomes == {
        2: "create",
        4: "create",
        5: "error",  # 03/04/2026 could be either
        6: "error",  # "lots"
        7: "error",  # the AE email
        8: "error",  # a second row for beta.example
        9: "error",  # no template "Gold Plan"
        10: "error",  # no company name
        11: "create",
    }
    errors = {row["line"]: row["errors"] for row in body["rows"]}
    assert "could be" in errors[5]["close_date"]
    assert errors[8] == {"primary_contact_email": "Duplicate of line 4 (same domain beta.example)."}
    assert any("garbled" in warning for warning in body["warnings"])
    assert body["rows"][0]["company_name"] == "Café Lumière, S.A."
    member_api.post(f"/api/v1/imports/{body['id']}/confirm")
    import_run(body["id"])
    names = sorted(Account.objects.values_list("name", flat=True))
    assert names == ["Beta Inc", "Café Lumière, S.A.", "Iota Systems"]
    cafe = Account.objects.get(name__startswith="Café")
    assert str(cafe.arr) == "1200000.00" and cafe.website == ""
    assert OutboxItem.objects.filter(key__startswith="handoff:").count() == 3

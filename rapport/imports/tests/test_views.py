"""The Bulk upload pages: template CSV, upload, preview, confirm and progress."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rapport.imports.models import Import
from rapport.imports.services import import_run
from rapport.imports.tests.factories import csv_bytes, csv_row
from rapport.onboarding.models import Plan
from rapport.onboarding.tests.factories import shipped_templates

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _templates(db: None) -> None:
    shipped_templates()


def _post(client: Client, data: bytes, **fields: Any) -> Any:
    file = SimpleUploadedFile("accounts.csv", data, content_type="text/csv")
    return client.post(reverse("imports:upload"), {"file": file, "date_order": "iso", **fields})


def test_the_page_offers_the_template_csv_and_the_upload_form(member_client: Client) -> None:
    page = member_client.get(reverse("imports:upload")).content.decode()
    assert "Download the CSV template" in page and 'enctype="multipart/form-data"' in page
    assert "Day first" in page and "Month first" in page
    csv_file = member_client.get(reverse("imports:template_csv"))
    assert csv_file["Content-Type"].startswith("text/csv")
    lines = csv_file.content.decode().splitlines()
    assert lines[0] == (
        "company_name,arr,close_date,primary_contact_name,primary_contact_email,ae_email,"
        "template_name"
    )
    assert len(lines) == 3


def test_the_template_csv_uploads_cleanly(member_client: Client) -> None:
    data = member_client.get(reverse("imports:template_csv")).content
    _post(member_client, data)
    upload = Import.objects.get()
    assert (upload.creates, upload.errors) == (2, 0)


def test_an_upload_shows_each_rows_outcome_and_errors_before_anything_is_written(
    member_client: Client,
) -> None:
    data = csv_bytes([csv_row(), csv_row(company_name="Beta", arr="lots")])
    response = _post(member_client, data)
    upload = Import.objects.get()
    assert response.status_code == 302 and response["Location"] == upload.get_absolute_url()
    page = member_client.get(upload.get_absolute_url()).content.decode()
    assert "1 to create" in page and "1 with errors" in page
    assert "is not an amount" in page and "Confirm import" in page
    assert not Plan.objects.exists()


def test_a_file_that_is_no_csv_shows_the_error_on_the_form(member_client: Client) -> None:
    response = _post(member_client, b"%PDF-1.7 ...")
    assert response.status_code == 400
    assert "a PDF document, not a CSV file" in response.content.decode()
    assert not Import.objects.exists()


def test_confirming_shows_progress_until_the_worker_is_done(
    member_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    _post(member_client, csv_bytes([csv_row()]))
    upload = Import.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        response = member_client.post(reverse("imports:confirm", args=[upload.pk]))
    assert response.status_code == 302
    page = member_client.get(upload.get_absolute_url()).content.decode()
    assert "Running" in page and "0 of 1 rows written" in page
    progress = member_client.get(reverse("imports:progress", args=[upload.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in progress and "<progress" in progress
    import_run(upload.pk)
    progress = member_client.get(reverse("imports:progress", args=[upload.pk])).content.decode()
    assert "hx-trigger" not in progress  # polling stops
    assert "1 account created" in progress
    again = member_client.post(reverse("imports:confirm", args=[upload.pk]), follow=True)
    assert "confirmed already" in again.content.decode()
    assert Plan.objects.count() == 1


def test_the_pages_need_a_login(client: Client) -> None:
    response = client.get(reverse("imports:upload"))
    assert response.status_code == 302 and "login" in response["Location"]

"""The imports API: upload a CSV of new customers, read its preview, confirm it, follow it.

A thin face over `rapport.imports.services` and `selectors`, as the pages are.
"""

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from rapport.core.api_errors import ID_MAX, RowId, error_responses
from rapport.core.errors import InvalidInput
from rapport.imports import selectors, services
from rapport.users.selectors import actor_get

router = Router(tags=["imports"])


class RowOut(Schema):
    line: int = Field(description="The line of the file the row starts on.")
    outcome: str = Field(description="create, update, skip or error.")
    company_name: str | None
    domain: str | None
    errors: dict[str, str] = Field(description="Messages by column; `row` for the row itself.")
    fields: list[str] = Field(description="The empty account fields an update fills.")
    reason: str = Field(description="Why a row is skipped.")
    account_id: int | None


class CountsOut(Schema):
    total: int
    create: int
    update: int
    skip: int
    error: int


class ProgressOut(Schema):
    done: int
    total: int
    percent: int


class ImportOut(Schema):
    id: int
    filename: str
    status: str = Field(
        description="reading (the preview is being stored), previewed, running, done or failed."
    )
    encoding: str
    warnings: list[str]
    error: str | None
    counts: CountsOut
    progress: ProgressOut
    created_at: datetime.datetime
    confirmed_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    rows: list[RowOut]
    rows_count: int = Field(description="Rows in all (of `outcome`, when given).")
    limit: int
    offset: int


class RowsOut(Schema):
    items: list[RowOut]
    count: int


class RowsQuery(Schema):
    limit: int = Field(selectors.PREVIEW_ROWS, ge=1, le=selectors.PREVIEW_ROWS)
    offset: int = Field(0, ge=0, le=ID_MAX)
    outcome: str = Field("", pattern=r"^(create|update|skip|error)?$")


@router.post(
    "",
    response={201: ImportOut, **error_responses(400, 403, 413)},
    summary="Upload a CSV of new customers and preview it",
)
def import_create_api(
    request: HttpRequest,
    file: File[UploadedFile | None] = None,
    date_order: Form[str] = "iso",
    template: Form[str] = "",
) -> Status[dict[str, Any]]:
    if file is None:
        raise InvalidInput("Attach the CSV file in the field `file`.", field="file")
    upload = services.import_preview(
        actor=actor_get(request),
        data=file.read(),
        filename=file.name or "",
        date_order=date_order,
        template=template,
    )
    return Status(201, selectors.import_json(upload))


@router.get(
    "/{upload_id}",
    response={200: ImportOut, **error_responses(404)},
    summary="Get an import: status, progress and a page of its rows",
)
def import_get_api(
    request: HttpRequest, upload_id: RowId, query: Query[RowsQuery]
) -> dict[str, Any]:
    upload = selectors.import_get(upload_id)
    return selectors.import_json(
        upload, limit=query.limit, offset=query.offset, outcome=query.outcome
    )


@router.get(
    "/{upload_id}/rows",
    response={200: RowsOut, **error_responses(404)},
    summary="List an import's rows",
)
def import_rows_api(
    request: HttpRequest, upload_id: RowId, query: Query[RowsQuery]
) -> dict[str, Any]:
    upload = selectors.import_get(upload_id)
    rows = selectors.import_rows(upload, query.outcome)
    page = rows[query.offset : query.offset + query.limit]
    return {
        "items": [selectors.row_json(row) for row in page],
        "count": upload.total if not query.outcome else rows.count(),
    }


@router.post(
    "/{upload_id}/confirm",
    response={202: ImportOut, **error_responses(404, 409)},
    summary="Confirm a previewed import: the worker writes it",
)
def import_confirm_api(request: HttpRequest, upload_id: RowId) -> Status[dict[str, Any]]:
    upload = services.import_confirm(
        actor=actor_get(request), upload=selectors.import_get(upload_id)
    )
    return Status(202, selectors.import_json(upload, limit=0))


@router.post(
    "/{upload_id}/resume",
    response={202: ImportOut, **error_responses(404, 409)},
    summary="Resume a failed or stalled import from its first unwritten row",
)
def import_resume_api(request: HttpRequest, upload_id: RowId) -> Status[dict[str, Any]]:
    upload = services.import_resume(
        actor=actor_get(request), upload=selectors.import_get(upload_id)
    )
    return Status(202, selectors.import_json(upload, limit=0))

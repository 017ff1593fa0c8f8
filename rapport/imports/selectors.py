"""Reads of bulk account uploads for the pages and the API."""

from typing import Any

from django.db.models import QuerySet

from rapport.core.errors import NotFound
from rapport.imports.models import Import, ImportRow
from rapport.onboarding.csv_rows import ROW

PREVIEW_ROWS = 1_000


def import_get(upload_id: int) -> Import:
    """Return the import with this id, or raise NotFound."""
    upload = (
        Import.objects.select_related("created_by", "confirmed_by").filter(pk=upload_id).first()
    )
    if upload is None:
        raise NotFound(f"No import has the id {upload_id}.")
    return upload


def imports_recent(limit: int = 20) -> list[Import]:
    """Return the latest imports, newest first."""
    return list(Import.objects.select_related("created_by").order_by("-created_at", "-id")[:limit])


def import_rows(upload: Import, outcome: str = "") -> QuerySet[ImportRow]:
    """Return the rows of *upload* in file order, only those of *outcome* when given."""
    rows = ImportRow.objects.filter(upload=upload).order_by("id")
    return rows.filter(outcome=outcome) if outcome else rows


def row_json(row: ImportRow) -> dict[str, Any]:
    """Return one row as the API shows it."""
    return {
        "line": row.line,
        "outcome": row.outcome,
        "company_name": row.values.get("company_name"),
        "domain": row.domain or None,
        "errors": row.errors,
        "fields": row.fields,
        "reason": row.reason,
        "account_id": row.account_id,
    }


def row_errors_text(errors: dict[str, str]) -> str:
    """Return a row's errors as one line, the row's own first."""
    parts = [errors[ROW]] if ROW in errors else []
    parts += [f"{column}: {message}" for column, message in errors.items() if column != ROW]
    return " ".join(parts)


def row_summary(row: ImportRow) -> str:
    """Return what happens to a row, in a sentence, for the page."""
    if row.errors:
        return row_errors_text(row.errors)
    if row.reason:
        return row.reason
    if row.outcome == "update":
        if row.fields:
            return (
                "Onboards the existing account and fills its empty " + ", ".join(row.fields) + "."
            )
        return "Onboards the existing account; it has every field already."
    return ""


def import_json(
    upload: Import, *, limit: int = PREVIEW_ROWS, offset: int = 0, outcome: str = ""
) -> dict[str, Any]:
    """Return an import with its counts, progress and one page of its rows."""
    rows = import_rows(upload, outcome)
    count = upload.total if not outcome else rows.count()
    return {
        "id": upload.pk,
        "filename": upload.filename,
        "status": upload.status,
        "encoding": upload.encoding,
        "warnings": upload.warnings,
        "error": upload.error or None,
        "counts": {
            "total": upload.total,
            "create": upload.creates,
            "update": upload.updates,
            "skip": upload.skips,
            "error": upload.errors,
        },
        "progress": {
            "done": upload.rows_done,
            "total": upload.rows_to_write,
            "percent": upload.percent,
        },
        "created_at": upload.created_at,
        "confirmed_at": upload.confirmed_at,
        "finished_at": upload.finished_at,
        "rows": [row_json(row) for row in rows[offset : offset + limit]],
        "rows_count": count,
        "limit": limit,
        "offset": offset,
    }

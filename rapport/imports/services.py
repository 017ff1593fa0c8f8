"""Writes of bulk account uploads: preview a CSV, confirm it, run it on the worker, resume it.

The preview stores every row with its cleaned values and outcome, and writes nothing
else. Confirming hands the import to the worker, which writes the rows to create or
update in chunks of CHUNK_ROWS, each in one short transaction that also records the
rows it wrote (`ImportRow.written`) and the progress. So a run that fails or whose
worker dies leaves whole chunks only, visible as accounts and listed on the import
with their ids; `import_resume` carries on from the first row not written.
"""

import contextlib
import datetime
import logging
from collections.abc import Callable, Iterator
from functools import partial
from itertools import batched
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from rapport.core.errors import Conflict, InvalidInput, NotFound, ServiceError
from rapport.imports.bulk import RunContext, VersionData, chunk_write
from rapport.imports.drafting_pool import DraftingPipeline, deals_of
from rapport.imports.inserts import RowsInsert, value_adapt
from rapport.imports.models import Import, ImportRow, ImportStatus, RowOutcome
from rapport.imports.preview import RowPlan, domain_public_check, rows_planned, rows_refine
from rapport.onboarding.csv_rows import DateOrder, ParsedRow, rows_stream
from rapport.onboarding.models import Template, TemplateVersion
from rapport.onboarding.services import member_require
from rapport.onboarding.services_templates import template_find
from rapport.users.models import User

logger = logging.getLogger(__name__)

CHUNK_ROWS = 2_000
INSERT_BATCH = 5_000
# A running import whose progress has not moved for this long has lost its worker.
STALE_AFTER = datetime.timedelta(minutes=10)
WRITTEN_OUTCOMES = (RowOutcome.CREATE, RowOutcome.UPDATE)


class FileTooLarge(ServiceError):
    """The upload is over UPLOAD_MAX_BYTES: 413, naming the limit."""

    status = 413


def import_max_rows() -> int:
    """Return how many rows one upload may hold (`IMPORT_MAX_ROWS`, default 100,000)."""
    return int(settings.IMPORT_MAX_ROWS)


def _default_template(reference: str) -> Template | None:
    if not reference.strip():
        return None
    try:
        return template_find(reference)
    except NotFound as exc:
        raise InvalidInput(exc.message, field="template") from None


def _date_order(value: str) -> DateOrder:
    try:
        return DateOrder(value or DateOrder.ISO)
    except ValueError:
        raise InvalidInput(
            "Choose the date order iso, day_first or month_first.", field="date_order"
        ) from None


def _claims_check(planned: Iterator[tuple[Any, dict[str, Any], RowPlan]]) -> Iterator[Any]:
    """Turn a second row that finds the same existing account into an error."""
    claimed: dict[int, int] = {}
    for row, values, plan in planned:
        if plan.outcome in WRITTEN_OUTCOMES and plan.account_id is not None:
            first = claimed.setdefault(plan.account_id, row.line)
            if first != row.line:
                column = "website" if values.get("website") else "primary_contact_email"
                row.errors[column] = (
                    f"Line {first} onboards the same account (id {plan.account_id}) already."
                )
                plan = RowPlan("error")
        yield row, values, plan


def import_preview(
    *,
    actor: User | None,
    data: bytes,
    filename: str = "",
    date_order: str = DateOrder.ISO,
    template: str = "",
) -> Import:
    """Read an uploaded CSV and store what confirming it would do, row by row.

    Raise FileTooLarge over UPLOAD_MAX_BYTES, InvalidInput for a file that is not a
    readable table of accounts (missing columns, more than `import_max_rows()` rows).
    Nothing but the import and its rows is written.

    The rows are read, looked up and stored a chunk at a time, each chunk in a short
    transaction, so memory stays the same for any size of file and other writers wait
    for no more than a chunk. Until the last is stored the import is `reading`; a file
    refused at the end (too many rows) or a failure takes its rows away again.
    """
    actor = member_require(actor)
    limit = int(settings.UPLOAD_MAX_BYTES)
    if len(data) > limit:
        raise FileTooLarge(
            f"The file is over the limit of {limit // (1024 * 1024)} MB for an upload.",
            field="file",
        )
    order = _date_order(date_order)
    default = _default_template(template)
    public = domain_public_check()
    parsed, rows = rows_stream(
        data,
        templates=list(Template.objects.order_by("name").values_list("id", "name")),
        default_template_id=default.pk if default else None,
        date_order=order,
        max_rows=import_max_rows(),
        domain_public=public,
    )
    if parsed.errors:
        raise InvalidInput(" ".join(parsed.errors), field="file")
    upload = Import.objects.create(
        filename=filename[:255],
        date_order=order.value,
        default_template=default,
        encoding=parsed.encoding,
        warnings=parsed.warnings,
        created_by=actor,
        status=ImportStatus.READING,
    )
    try:
        counts = _rows_store(upload, _claims_check(_rows_planned_by_chunk(rows, public)))
        if parsed.errors:
            raise InvalidInput(" ".join(parsed.errors), field="file")
    except BaseException:
        Import.objects.filter(pk=upload.pk).delete()
        raise
    upload.total = sum(counts.values())
    upload.creates = counts[RowOutcome.CREATE]
    upload.updates = counts[RowOutcome.UPDATE]
    upload.skips = counts[RowOutcome.SKIP]
    upload.errors = counts[RowOutcome.ERROR]
    upload.rows_to_write = upload.creates + upload.updates
    upload.warnings = parsed.warnings
    upload.status = ImportStatus.PREVIEWED
    upload.save()
    return upload


def _rows_planned_by_chunk(
    rows: Iterator[ParsedRow], public: Callable[[str], bool]
) -> Iterator[tuple[ParsedRow, dict[str, Any], RowPlan]]:
    """Refine and plan the rows a chunk at a time: one lookup of existing accounts each."""
    for chunk in batched(rows, INSERT_BATCH):
        existing = rows_refine(chunk, public)
        yield from rows_planned(chunk, existing)


def _rows_store(
    upload: Import, planned: Iterator[tuple[ParsedRow, dict[str, Any], RowPlan]]
) -> dict[str, int]:
    """Store the planned rows of *upload*, a short transaction a chunk; return the counts."""
    counts = dict.fromkeys(RowOutcome.values, 0)
    insert = RowsInsert(
        ImportRow,
        ("upload", "line", "outcome", "values", "errors", "fields", "reason", "domain", "account"),
        now=timezone.now(),
    )
    for batch in batched(planned, INSERT_BATCH):
        stored = []
        for row, values, plan in batch:
            counts[plan.outcome] += 1
            stored.append(
                (
                    upload.pk,
                    row.line,
                    plan.outcome,
                    value_adapt(ImportRow, "values", values),
                    value_adapt(ImportRow, "errors", row.errors),
                    value_adapt(ImportRow, "fields", plan.fields),
                    plan.reason,
                    row.domain or "",
                    plan.account_id,
                )
            )
        with transaction.atomic():
            insert.run(stored)
    return counts


def _run_enqueue(upload_id: int) -> None:
    from rapport.imports.tasks import import_run_task

    import_run_task.enqueue(upload_id)


def import_confirm(*, actor: User | None, upload: Import) -> Import:
    """Start writing a previewed import on the worker; a second confirm is refused (409)."""
    actor = member_require(actor)
    with transaction.atomic():
        upload = Import.objects.select_for_update().get(pk=upload.pk)
        if upload.status != ImportStatus.PREVIEWED:
            raise Conflict(
                f"This import was confirmed already; it is {upload.get_status_display().lower()}."
            )
        upload.status = ImportStatus.RUNNING
        upload.confirmed_by = actor
        upload.confirmed_at = timezone.now()
        upload.rows_done = 0
        upload.save()
        transaction.on_commit(partial(_run_enqueue, upload.pk))
    return upload


def import_resume(*, actor: User | None, upload: Import) -> Import:
    """Carry on a failed import, or one whose worker stopped, from its first unwritten row."""
    member_require(actor)
    with transaction.atomic():
        upload = Import.objects.select_for_update().get(pk=upload.pk)
        stale = timezone.now() - upload.updated_at > STALE_AFTER
        if not (
            upload.status == ImportStatus.FAILED
            or (upload.status == ImportStatus.RUNNING and stale)
        ):
            raise Conflict(
                f"Only a failed or stalled import can be resumed; this one is "
                f"{upload.get_status_display().lower()}."
            )
        upload.status = ImportStatus.RUNNING
        upload.error = ""
        upload.save()
        transaction.on_commit(partial(_run_enqueue, upload.pk))
    return upload


def _versions_load(ctx: RunContext, rows: list[ImportRow]) -> None:
    wanted = {row.values["template_id"] for row in rows} - set(ctx.versions)
    for template_id in sorted(wanted):
        version = (
            TemplateVersion.objects.select_related("template")
            .filter(template_id=template_id)
            .order_by("-number")
            .first()
        )
        if version is None:
            raise NotFound(
                f"The template with id {template_id} was deleted after the preview; "
                "upload the file again."
            )
        ctx.versions[template_id] = VersionData.of(version, ctx.today)


@contextlib.contextmanager
def foreign_key_checks_skipped() -> Iterator[None]:
    """Skip SQLite's per-row foreign key checks for one chunk's transaction.

    Safe by construction, and only on SQLite: a chunk's rows reference rows it wrote
    itself or read inside the same write transaction, and SQLite's writers take turns,
    so nothing deletes them before it commits. The checks cost about a twentieth of a
    run. The pragma does nothing inside a transaction (a caller's, or a test's), and
    PostgreSQL checks as always.
    """
    skip = connection.vendor == "sqlite" and not connection.in_atomic_block
    if skip:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        if skip:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA foreign_keys = ON")


def import_run(upload_id: int) -> Import:
    """Write a confirmed import chunk by chunk (the worker's task); mark it done or failed.

    A chunk that fails rolls back whole; the import is marked failed with the error, and
    the chunks before it stay written and counted in its progress.
    """
    upload = Import.objects.select_related("confirmed_by").get(pk=upload_id)
    if upload.status != ImportStatus.RUNNING:
        return upload
    now = timezone.now()
    ctx = RunContext(
        upload=upload,
        actor=upload.confirmed_by,
        versions={},
        today=timezone.localdate(),
        now=now,
        link_days=int(settings.HANDOFF_LINK_DAYS),
    )
    pending = ImportRow.objects.filter(
        upload=upload, written=False, outcome__in=WRITTEN_OUTCOMES
    ).only("id", "line", "values", "domain", "outcome")
    pipeline = DraftingPipeline(pending.count())

    def fetch(after: int) -> tuple[list[ImportRow], Any]:
        chunk = list(pending.filter(pk__gt=after).order_by("pk")[:CHUNK_ROWS])
        if not chunk:
            return chunk, None
        _versions_load(ctx, chunk)
        questions = {key: data.questions for key, data in ctx.versions.items()}
        return chunk, pipeline.submit(deals_of(chunk, questions))

    try:
        # The next chunk is drafted (in the pool) while this one is written.
        chunk, drafting = fetch(0)
        while chunk:
            following, following_drafts = fetch(chunk[-1].pk)
            ctx.now = timezone.now()
            with foreign_key_checks_skipped():
                chunk_write(ctx, chunk, drafted=drafting.result())
            chunk, drafting = following, following_drafts
    except Exception as exc:
        logger.exception("Import %s failed", upload_id)
        message = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
        Import.objects.filter(pk=upload_id).update(
            status=ImportStatus.FAILED, error=message[:2000], updated_at=timezone.now()
        )
    else:
        Import.objects.filter(pk=upload_id, status=ImportStatus.RUNNING).update(
            status=ImportStatus.DONE, finished_at=timezone.now(), updated_at=timezone.now()
        )
    finally:
        pipeline.close()
    upload.refresh_from_db()
    return upload

"""Bulk account uploads: the file's preview, row by row, and the run that writes it."""

from django.conf import settings
from django.db import models
from django.urls import reverse


class ImportStatus(models.TextChoices):
    READING = "reading", "Reading the file"
    PREVIEWED = "previewed", "Previewed"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class RowOutcome(models.TextChoices):
    """What confirming the import does with a row."""

    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    SKIP = "skip", "Skip"
    ERROR = "error", "Error"


class Import(models.Model):
    """One uploaded CSV of new customers: previewed, then confirmed and written in chunks.

    The counts are those of the preview; a row that an account made meanwhile turns
    into a skip or an update is counted again when its chunk is written. `rows_done` of
    `rows_to_write` is the progress; it moves with each committed chunk, so a run that
    stopped halfway says exactly how far it got.
    """

    filename = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    date_order = models.CharField(max_length=12, default="iso")
    default_template = models.ForeignKey(
        "onboarding.Template", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    encoding = models.CharField(max_length=20, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    total = models.PositiveIntegerField(default=0)
    creates = models.PositiveIntegerField(default=0)
    updates = models.PositiveIntegerField(default=0)
    skips = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    rows_to_write = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Moves with each committed chunk: a run that stopped moving has lost its worker.
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.filename or 'upload'})"

    def get_absolute_url(self) -> str:
        return reverse("imports:detail", args=[self.pk])

    @property
    def percent(self) -> int:
        if not self.rows_to_write:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, 100 * self.rows_done // self.rows_to_write)


class ImportRow(models.Model):
    """One data row of an import: its cleaned values, its outcome, and what it became.

    `values` holds the cleaned cells as text (dates ISO, amounts in cents) so the run
    needs no second parse; `fields` lists what an update fills, `reason` why a row is
    skipped. `account` is set in the transaction that writes the row.
    """

    upload = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()
    outcome = models.CharField(max_length=8, choices=RowOutcome.choices)
    values = models.JSONField(default=dict)
    errors = models.JSONField(default=dict, blank=True)
    fields = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    domain = models.CharField(max_length=253, blank=True)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    written = models.BooleanField(default=False)

    class Meta:
        ordering = ("upload", "id")
        indexes = [
            models.Index(fields=["upload", "outcome", "id"], name="import_row_outcome_idx"),
            models.Index(fields=["upload", "written", "id"], name="import_row_written_idx"),
        ]

    def __str__(self) -> str:
        return f"Line {self.line}: {self.outcome}"

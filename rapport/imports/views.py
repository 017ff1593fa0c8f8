"""The bulk upload pages: upload a CSV, review its preview, confirm it, watch it run."""

import csv
import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rapport.core.errors import ServiceError
from rapport.core.web import HtmxLoginRequiredMixin, form_add_service_error
from rapport.imports import selectors, services
from rapport.imports.forms import UploadForm
from rapport.imports.models import RowOutcome
from rapport.onboarding.csv_rows import REQUIRED_COLUMNS
from rapport.onboarding.models import Template
from rapport.users.selectors import actor_get

PAGE_SIZE = 100


class ImportUploadView(HtmxLoginRequiredMixin):
    """The Bulk upload page: the template CSV, the upload form, the latest imports."""

    template_name = "imports/upload.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, UploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = UploadForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            template = data["template"]
            try:
                upload = services.import_preview(
                    actor=actor_get(request),
                    data=data["file"].read(),
                    filename=data["file"].name or "",
                    date_order=data["date_order"],
                    template=str(template.pk) if template else "",
                )
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                return redirect(upload)
        return self._page(request, form, status)

    def _page(self, request: HttpRequest, form: UploadForm, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "imports": selectors.imports_recent(),
            "max_rows": services.import_max_rows(),
        }
        return render(request, self.template_name, context, status=status)


class ImportTemplateCsvView(HtmxLoginRequiredMixin):
    """The CSV to fill in: the columns, and two example rows naming real templates."""

    def get(self, request: HttpRequest) -> HttpResponse:
        names = list(Template.objects.values_list("name", flat=True)[:2]) or ["", ""]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(REQUIRED_COLUMNS)
        writer.writerow(
            ["Acme Corp", "50000", "2025-01-15", "Jane Smith", "jane@acme.com", "ae@company.com"]
            + names[:1]
        )
        writer.writerow(
            ["Beta Inc", "120000", "2025-02-01", "John Doe", "john@beta.com", "ae@company.com"]
            + names[-1:]
        )
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="rapport-accounts.csv"'
        return response


class ImportDetailView(HtmxLoginRequiredMixin):
    """An import's preview, row by row, with its confirm button and progress."""

    def get(self, request: HttpRequest, upload_id: int) -> HttpResponse:
        upload = selectors.import_get(upload_id)
        outcome = request.GET.get("outcome", "")
        if outcome not in RowOutcome.values:
            outcome = ""
        page = Paginator(selectors.import_rows(upload, outcome), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        rows = [(row, selectors.row_summary(row)) for row in page.object_list]
        context = {
            "upload": upload,
            "page": page,
            "rows": rows,
            "outcome": outcome,
            "outcomes": RowOutcome.choices,
        }
        return render(request, "imports/detail.html", context)


class ImportProgressView(HtmxLoginRequiredMixin):
    """The progress fragment that the detail page polls while the import runs."""

    def get(self, request: HttpRequest, upload_id: int) -> HttpResponse:
        upload = selectors.import_get(upload_id)
        return render(request, "imports/_progress.html", {"upload": upload})


class ImportConfirmView(HtmxLoginRequiredMixin):
    def post(self, request: HttpRequest, upload_id: int) -> HttpResponse:
        upload = selectors.import_get(upload_id)
        try:
            services.import_confirm(actor=actor_get(request), upload=upload)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect(upload)
        messages.success(request, "Import confirmed: Rapport is writing the accounts.")
        return redirect(upload)


class ImportResumeView(HtmxLoginRequiredMixin):
    def post(self, request: HttpRequest, upload_id: int) -> HttpResponse:
        upload = selectors.import_get(upload_id)
        try:
            services.import_resume(actor=actor_get(request), upload=upload)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Resumed from the first row not written.")
        return redirect(upload)

"""The directory pages: the account table with its filters, sorts, columns and pages,
and the cells an admin edits in place.

Views stay thin: the filter set parses the query, a service writes, a selector reads,
and a template renders.
"""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import push_url, reswap, retarget

from rapport.accounts import selectors as account_selectors
from rapport.accounts import services as account_services
from rapport.accounts import services_logos
from rapport.accounts.domains import domain_display
from rapport.accounts.forms import AccountCrmForm, AccountLogoForm, split_list
from rapport.accounts.models import (
    Account,
    AccountSource,
    AccountStatus,
    CrmProvider,
    CrmSyncStatus,
    FieldDefinition,
    FieldType,
)
from rapport.core.errors import InvalidInput, ServiceError
from rapport.core.pagination import page_number_parse
from rapport.core.query_params import params_clean
from rapport.core.web import HtmxHttpRequest, HtmxLoginRequiredMixin, is_partial
from rapport.directory import selectors, services
from rapport.directory.columns import Column, directory_columns_available, directory_columns_for
from rapport.directory.filters import SORTS, AccountFilterSet
from rapport.directory.selectors import DirectoryRow
from rapport.directory.templatetags.directory_cells import directory_cell, directory_row
from rapport.users.selectors import actor_get

PAGE_SIZE = 50
# The directory cells an admin edits in place, with the label of their text input.
INLINE_FIELDS = {
    "name": "Account name",
    "logo": "Logo",
    "primary_domain": "Primary domain",
    "secondary_domains": "Secondary domains",
    "crm_company": "CRM mapping",
    "crm_id": "CRM mapping",
}
CRM_CELLS = ("crm_company", "crm_id")
# The column of each cell edited in place, which says what its row must read.
EDITED_COLUMNS = {c.key: c for c in directory_columns_available([]) if c.key in INLINE_FIELDS}
# What a member is told they may not do, in the services' words.
INLINE_ACTIONS = {
    "name": "change an account's name or domains",
    "primary_domain": "change an account's name or domains",
    "secondary_domains": "change an account's name or domains",
    "logo": "change an account's logo",
    "crm_company": "change an account's CRM mapping",
    "crm_id": "change an account's CRM mapping",
}
COLUMN_GROUPS = (("rapport", "Rapport fields"), ("crm", "CRM fields"), ("field", "Extra fields"))


# --- directory ---------------------------------------------------------------------------


def _directory_query(filters: AccountFilterSet, *, sort: str | None = None, page: int = 1) -> str:
    query = filters.as_query()
    sort = filters.sort_param if sort is None else sort
    if sort != "name":
        query["sort"] = sort
    if page > 1:
        query["page"] = str(page)
    return urlencode(query, doseq=True)


def _directory_url(filters: AccountFilterSet, path: str, **kwargs: Any) -> str:
    """Return the directory's *path* with the query of *filters* (and a sort or page)."""
    query = _directory_query(filters, **kwargs)
    return path + (f"?{query}" if query else "")


def _sortable(key: str) -> bool:
    return key in SORTS or key == "slack_channel" or key.startswith("field.")


def _filter_controls(fields: list[FieldDefinition], params: QueryDict) -> list[dict[str, Any]]:
    """Describe one filter control per extra field, with the values currently asked for."""
    controls = []
    for field in fields:
        name = f"field.{field.key}"
        kind = {
            FieldType.CHOICE: "choice",
            FieldType.NUMBER: "range",
            FieldType.DATE: "range",
        }.get(FieldType(field.type), "text")
        controls.append(
            {
                "field": field,
                "name": name,
                "kind": kind,
                "input_type": "date" if field.type == FieldType.DATE else "number",
                "value": params.get(name, ""),
                "min": params.get(f"{name}.min", ""),
                "max": params.get(f"{name}.max", ""),
            }
        )
    return controls


def _directory_response(
    request: HtmxHttpRequest, params: QueryDict, *, error: ServiceError | None = None
) -> HttpResponse:
    """Render the directory for *params*: the whole page, or only its results for htmx."""
    user = actor_get(request)
    fields = account_selectors.field_definitions()
    page_number = 1
    try:
        filters = AccountFilterSet.from_params(params, fields)
        page_number = page_number_parse(params)
    except ServiceError as exc:
        error = exc
        filters = AccountFilterSet.from_params({}, fields)
    directory = selectors.directory_for(
        user, filters, fields, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE
    )
    page = directory.page
    picked = {c.key for c in directory.columns}
    available = directory_columns_available(fields)
    path = reverse("accounts:list")
    headers = []
    for column in directory.columns:
        sortable = _sortable(column.key)
        current = filters.sort == column.key
        next_sort = f"-{column.key}" if current and not filters.descending else column.key
        headers.append(
            {
                "column": column,
                "url": _directory_url(filters, path, sort=next_sort) if sortable else "",
                "direction": ("desc" if filters.descending else "asc") if current else "",
            }
        )
    canonical = _directory_url(filters, path, page=page_number)
    context = {
        "directory": directory,
        "page": page,
        "filters": filters,
        # Every filter the form shows, blank when not given: a missing key would make the
        # template engine list the QueryDict's attributes (dir()) on each lookup.
        "params": {p.name: params.get(p.name, "") for p in AccountFilterSet.params},
        "error": error,
        "headers": headers,
        "first_row": page.offset + 1,
        "last_row": page.offset + len(page.items),
        "previous_url": (
            _directory_url(filters, path, page=page_number - 1) if page_number > 1 else ""
        ),
        "next_url": _directory_url(filters, path, page=page_number + 1) if page.has_next else "",
        "canonical_query": _directory_query(filters, page=page_number),
        "column_groups": [
            (label, [(c, c.key in picked) for c in available if c.group == group])
            for group, label in COLUMN_GROUPS
        ],
        "field_controls": _filter_controls(fields, params),
        "statuses": AccountStatus.choices,
        "sources": AccountSource.choices,
        "crm_statuses": CrmSyncStatus.choices,
        "is_admin": user.is_admin,
        "oob": is_partial(request),
    }
    partial = is_partial(request)
    template = "directory/list.html#directory" if partial else "directory/list.html"
    response = render(request, template, context, status=error.status if error else 200)
    if partial and error is None:
        # The server names the URL to push, so blank controls never reach the address bar.
        push_url(response, canonical)
    patch_vary_headers(response, ("HX-Request",))
    return response


class AccountListView(HtmxLoginRequiredMixin):
    """The account directory: totals, filters, sortable columns and pages."""

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        return _directory_response(request, params_clean(request.GET))


class DirectoryColumnsView(HtmxLoginRequiredMixin):
    """Save the columns the user picked, then show the directory with them."""

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        params = params_clean(QueryDict(request.POST.get("query", "")))
        error = None
        try:
            services.directory_columns_save(
                user=actor_get(request), columns=request.POST.getlist("columns")
            )
        except ServiceError as exc:
            error = exc
        if is_partial(request) or error is not None:
            return _directory_response(request, params, error=error)
        query = params.urlencode()
        return redirect(reverse("accounts:list") + (f"?{query}" if query else ""))


# --- inline cells ------------------------------------------------------------------------


def _inline_field(field: str) -> str:
    if field not in INLINE_FIELDS:
        raise Http404("This column is not edited in the table.")
    return field


def _edited_row(pk: int, columns: list[Column]) -> DirectoryRow:
    """Return the directory row of account *pk* with what *columns* show, or raise 404."""
    row = selectors.directory_row_get(pk, columns)
    if row is None:
        raise Http404(f"No account with id {pk}.")
    return row


def _cell(
    request: HttpRequest, account: Account, field: str, *, saved: bool = False
) -> HttpResponse:
    # The logo shows in the name cell; the name cell needs the name column.
    column = EDITED_COLUMNS["name" if field == "logo" else field]
    row = _edited_row(account.pk, [column])
    return HttpResponse(directory_cell(row, field, actor_get(request).is_admin, saved=saved))


def _row(request: HttpRequest, account: Account) -> HttpResponse:
    """Answer with the account's whole row, replacing the one the request came from.

    A CRM mapping shows in several cells (company, id, sync badge, last sync).
    """
    user = actor_get(request)
    columns = directory_columns_for(user, account_selectors.field_definitions())
    row = _edited_row(account.pk, columns)
    response = HttpResponse(directory_row(row, columns, user.is_admin, saved=True))
    retarget(response, "closest tr")
    reswap(response, "outerHTML")
    return response


def _cell_form(
    request: HttpRequest,
    account: Account,
    field: str,
    *,
    value: str,
    error: str = "",
    status: int = 200,
    denied: bool = False,
) -> HttpResponse:
    context = {
        "account": account,
        "field": field,
        # The form takes the place of the cell it edits; the logo's is the name cell.
        "cell_key": "name" if field == "logo" else field,
        "label": INLINE_FIELDS[field],
        "value": value,
        "error": error,
        "denied": denied,
    }
    return render(request, "directory/cells.html#edit", context, status=status)


def _cell_denied(request: HttpRequest, account: Account, field: str) -> HttpResponse:
    """Answer a member's inline edit with 403 and the reason, in place of the cell."""
    error = f"Only an admin can {INLINE_ACTIONS[field]}."
    return _cell_form(request, account, field, value="", error=error, status=403, denied=True)


def _crm_form(
    request: HttpRequest,
    account: Account,
    field: str,
    values: dict[str, str],
    *,
    error: ServiceError | None = None,
) -> HttpResponse:
    context = {
        "account": account,
        "field": field,
        "values": values,
        "providers": CrmProvider.choices,
        "error": error.message if error else "",
        "error_field": (error.field or "") if error else "",
    }
    status = error.status if error else 200
    return render(request, "directory/cells.html#crm", context, status=status)


def _logo_form(
    request: HttpRequest, account: Account, *, error: ServiceError | None = None
) -> HttpResponse:
    context = {
        "account": account,
        "logo_max_kb": settings.LOGO_MAX_BYTES // 1024,
        "error": error.message if error else "",
    }
    status = error.status if error else 200
    return render(request, "directory/cells.html#logo", context, status=status)


def _crm_values(data: Any) -> dict[str, str]:
    return {key: str(data.get(key) or "") for key in AccountCrmForm.base_fields}


class AccountCellView(HtmxLoginRequiredMixin):
    """A directory cell an admin edits in place: GET shows it, POST saves it.

    The field in the URL names the cell: name, logo (in the name cell), primary_domain,
    secondary_domains, or crm_company / crm_id (either edits the whole CRM mapping).
    """

    def get(self, request: HttpRequest, pk: int, field: str) -> HttpResponse:
        return _cell(request, account_selectors.account_get(pk), _inline_field(field))

    def post(self, request: HttpRequest, pk: int, field: str) -> HttpResponse:
        field = _inline_field(field)
        account = account_selectors.account_get(pk)
        if not actor_get(request).is_admin:
            # The services refuse too; answering first keeps a member's input unread.
            return _cell_denied(request, account, field)
        if field in CRM_CELLS:
            return self.save_crm(request, account, field)
        if field == "logo":
            return self.save_logo(request, account)
        value = request.POST.get("value", "")
        changes: dict[str, Any] = {field: value}
        if field == "secondary_domains":
            changes = {field: split_list(value)}
        try:
            account = account_services.account_update(
                actor=actor_get(request), account=account, **changes
            )
        except ServiceError as exc:
            return _cell_form(
                request, account, field, value=value, error=exc.message, status=exc.status
            )
        return _cell(request, account, field, saved=True)

    def save_crm(self, request: HttpRequest, account: Account, field: str) -> HttpResponse:
        form = AccountCrmForm(request.POST)
        values = _crm_values(request.POST)
        try:
            if not form.is_valid():
                name, errors = next(iter(form.errors.items()))
                raise InvalidInput(f"{form.fields[name].label}: {errors[0]}", field=name)
            data = form.cleaned_data
            account = account_services.account_set_crm_mapping(
                actor=actor_get(request),
                account=account,
                provider=data["crm_provider"],
                external_id=data["crm_external_id"],
                company_name=data["crm_company_name"],
            )
        except ServiceError as exc:
            return _crm_form(request, account, field, values, error=exc)
        return _row(request, account)

    def save_logo(self, request: HttpRequest, account: Account) -> HttpResponse:
        form = AccountLogoForm(request.POST, request.FILES)
        remove = "logo_remove" in request.POST
        try:
            if not form.is_valid():
                raise InvalidInput(str(form.errors["logo"][0]), field="logo")
            upload = None if remove else form.cleaned_data["logo"]
            if upload is None and not remove:
                raise InvalidInput("Choose an image to upload.", field="logo")
            account = services_logos.account_set_logo(
                actor=actor_get(request), account=account, upload=upload
            )
        except ServiceError as exc:
            return _logo_form(request, account, error=exc)
        return _cell(request, account, "logo", saved=True)


class AccountCellEditView(HtmxLoginRequiredMixin):
    """The form that replaces a directory cell while an admin edits it."""

    def get(self, request: HttpRequest, pk: int, field: str) -> HttpResponse:
        field = _inline_field(field)
        account = account_selectors.account_get(pk)
        if not actor_get(request).is_admin:
            return _cell_denied(request, account, field)
        if field in CRM_CELLS:
            values = _crm_values(AccountCrmForm.for_account(account).initial)
            return _crm_form(request, account, field, values)
        if field == "logo":
            return _logo_form(request, account)
        if field == "secondary_domains":
            row = _edited_row(pk, [EDITED_COLUMNS[field]])
            value = ", ".join(domain_display(d) for d in row["domains"])
        elif field == "name":
            value = account.name
        else:
            value = domain_display(account.primary_domain or "")
        return _cell_form(request, account, field, value=value)

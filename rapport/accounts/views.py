"""The accounts web UI: the account page and its forms, new accounts and field settings.

Views stay thin: a form turns posted text into values, a service writes, a selector
reads, and a template renders. A ServiceError becomes a message next to the form that
caused it, answered with the error's HTTP status.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rapport.accounts import selectors, services, services_contacts, services_fields, services_logos
from rapport.accounts.fields import field_format
from rapport.accounts.forms import (
    AccountCreateForm,
    AccountCrmForm,
    AccountFieldValuesForm,
    AccountIdentityForm,
    AccountLogoForm,
    AccountMetadataForm,
    ContactAddForm,
    FieldDefinitionForm,
    split_list,
)
from rapport.accounts.models import (
    Account,
    FieldSource,
)
from rapport.audit.selectors import audit_entries_for
from rapport.core.errors import InvalidInput, ServiceError
from rapport.core.web import HtmxLoginRequiredMixin, form_add_service_error, service_error_refuse
from rapport.metrics.selectors import account_requests
from rapport.users.selectors import actor_get

# --- account page ------------------------------------------------------------------------


def _detail_response(
    request: HttpRequest,
    pk: int,
    *,
    bound: dict[str, forms.BaseForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the account page; *bound* holds a submitted form to show with its errors."""
    try:
        account = selectors.account_detail(pk)
    except Account.DoesNotExist:
        raise Http404(f"No account with id {pk}.") from None
    user = actor_get(request)
    fields = selectors.field_definitions()
    values = {v.field.key: v.value for v in getattr(account, "field_values_shown", [])}
    rapport_fields = [f for f in fields if f.source == FieldSource.RAPPORT]
    page_forms: dict[str, forms.BaseForm] = {
        "identity": AccountIdentityForm.for_account(account),
        "metadata": AccountMetadataForm.for_account(account),
        "crm": AccountCrmForm.for_account(account),
        "logo": AccountLogoForm(),
        "field_values": AccountFieldValuesForm(rapport_fields, values=values),
        "contact": ContactAddForm(),
    }
    page_forms |= bound or {}
    context = {
        "account": account,
        "forms": page_forms,
        "open_form": next(iter(bound), "") if bound else "",
        "crm_fields": [
            (f, field_format(values.get(f.key))) for f in fields if f.source == FieldSource.CRM
        ],
        "rapport_fields": [(f, field_format(values.get(f.key))) for f in rapport_fields],
        "logo_max_kb": settings.LOGO_MAX_BYTES // 1024,
        "fields": fields,
        "history": list(audit_entries_for(account)),
        "is_admin": user.is_admin,
        "requests": account_requests(account),
    }
    return render(request, "accounts/detail.html", context, status=status)


class AccountDetailView(HtmxLoginRequiredMixin):
    """One account: identity, metadata, CRM link, fields, contacts, channels and history."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return _detail_response(request, pk)


class AccountFormView(HtmxLoginRequiredMixin):
    """Base of the account page's forms: validate, call a service, come back to the page."""

    form_key = ""
    success_message = ""

    def get_form(self, request: HttpRequest, account: Account) -> forms.BaseForm:
        raise NotImplementedError

    def save(self, request: HttpRequest, account: Account, form: Any) -> None:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = selectors.account_get(pk)
        form = self.get_form(request, account)
        status = 400
        if form.is_valid():
            try:
                self.save(request, account, form)
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, self.success_message)
                return redirect(account)
        return _detail_response(request, pk, bound={self.form_key: form}, status=status)


class AccountIdentityUpdateView(AccountFormView):
    form_key = "identity"
    success_message = "Saved the name and domains."

    def get_form(self, request: HttpRequest, account: Account) -> forms.BaseForm:
        return AccountIdentityForm(request.POST)

    def save(self, request: HttpRequest, account: Account, form: AccountIdentityForm) -> None:
        services.account_update(actor=actor_get(request), account=account, **form.changes())


class AccountMetadataUpdateView(AccountFormView):
    form_key = "metadata"
    success_message = "Saved the account details."

    def get_form(self, request: HttpRequest, account: Account) -> forms.BaseForm:
        return AccountMetadataForm(request.POST)

    def save(self, request: HttpRequest, account: Account, form: AccountMetadataForm) -> None:
        services.account_update(actor=actor_get(request), account=account, **form.changes())


class AccountLogoUpdateView(AccountFormView):
    form_key = "logo"
    success_message = "Saved the logo."

    def get_form(self, request: HttpRequest, account: Account) -> forms.BaseForm:
        return AccountLogoForm(request.POST, request.FILES)

    def save(self, request: HttpRequest, account: Account, form: AccountLogoForm) -> None:
        upload = None if "remove" in request.POST else form.cleaned_data["logo"]
        if upload is None and "remove" not in request.POST:
            raise InvalidInput("Choose an image to upload.", field="logo")
        services_logos.account_set_logo(actor=actor_get(request), account=account, upload=upload)
        if upload is None:
            self.success_message = "Removed the logo."


class AccountCrmMappingView(AccountFormView):
    form_key = "crm"
    success_message = "Saved the CRM mapping."

    def get_form(self, request: HttpRequest, account: Account) -> forms.BaseForm:
        return AccountCrmForm(request.POST)

    def save(self, request: HttpRequest, account: Account, form: AccountCrmForm) -> None:
        data = form.cleaned_data
        services.account_set_crm_mapping(
            actor=actor_get(request),
            account=account,
            provider=data["crm_provider"],
            external_id=data["crm_external_id"],
            company_name=data["crm_company_name"],
        )
        if not data["crm_external_id"].strip():
            self.success_message = "Unmapped the account from the CRM."


class AccountFieldValuesView(AccountFormView):
    form_key = "field_values"
    success_message = "Saved the fields."

    def get_form(self, request: HttpRequest, account: Account) -> forms.BaseForm:
        definitions = [f for f in selectors.field_definitions() if f.source == FieldSource.RAPPORT]
        return AccountFieldValuesForm(definitions, request.POST)

    def save(self, request: HttpRequest, account: Account, form: AccountFieldValuesForm) -> None:
        services_fields.account_set_field_values(
            actor=actor_get(request), account=account, values=form.values()
        )


class AccountContactAddView(AccountFormView):
    form_key = "contact"
    success_message = "Added the contact."

    def get_form(self, request: HttpRequest, account: Account) -> forms.BaseForm:
        return ContactAddForm(request.POST)

    def save(self, request: HttpRequest, account: Account, form: ContactAddForm) -> None:
        contact = services_contacts.contact_add_to_account(
            account=account,
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            actor=actor_get(request),
        )
        self.success_message = f"Added {contact.email} to the contacts."


class AccountLogoView(HtmxLoginRequiredMixin):
    """Serve an account's logo: always a PNG re-encoded on upload, never sniffed."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = selectors.account_get(pk)
        if not account.logo.name:
            raise Http404("This account has no logo.")
        try:
            with default_storage.open(account.logo.name, "rb") as stored:
                content = stored.read()
        except FileNotFoundError:
            raise Http404("The logo file is missing.") from None
        response = HttpResponse(content, content_type="image/png")
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Disposition"] = f'inline; filename="account-{account.pk}.png"'
        response["Cache-Control"] = "private, max-age=300"
        return response


class AccountDeleteView(HtmxLoginRequiredMixin):
    """Ask before deleting an account (GET), then delete it (POST). Admins only."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = selectors.account_get(pk)
        if not actor_get(request).is_admin:
            raise DjangoPermissionDenied("Only an admin can delete an account.")
        return render(request, "accounts/delete.html", {"account": account})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = selectors.account_get(pk)
        name = account.name
        try:
            services.account_delete(actor=actor_get(request), account=account)
        except ServiceError as exc:
            service_error_refuse(exc)
            messages.error(request, exc.message)
            return redirect(account)
        messages.success(request, f"Deleted the account “{name}”.")
        return redirect("accounts:list")


# --- new account, fields settings --------------------------------------------------------


class AccountCreateView(HtmxLoginRequiredMixin):
    """Create an account by hand."""

    template_name = "accounts/new.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": AccountCreateForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = AccountCreateForm(request.POST)
        status, existing = 400, None
        if form.is_valid():
            data = dict(form.cleaned_data)  # add_error() below drops the field it names
            try:
                account = services.account_create(
                    actor=actor_get(request),
                    name=data["name"],
                    primary_domain=data["primary_domain"] or None,
                    secondary_domains=split_list(data["secondary_domains"]),
                    owner=data["owner"],
                    status=data["status"],
                )
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
                if exc.status == 409 and data["primary_domain"]:
                    existing = selectors.account_with_primary_domain(data["primary_domain"])
            else:
                messages.success(request, f"Created the account “{account.name}”.")
                return redirect(account)
        context = {"form": form, "existing": existing}
        return render(request, self.template_name, context, status=status)


class FieldDefinitionListView(HtmxLoginRequiredMixin):
    """Fields settings: every extra account field, and a form to define a Rapport field."""

    template_name = "accounts/fields.html"

    def _render(self, request: HttpRequest, form: FieldDefinitionForm, status: int) -> HttpResponse:
        if not actor_get(request).is_admin:
            raise DjangoPermissionDenied("Only an admin can manage account fields.")
        fields = selectors.field_definitions()
        context = {
            "form": form,
            "crm_fields": [f for f in fields if f.source == FieldSource.CRM],
            "rapport_fields": [f for f in fields if f.source == FieldSource.RAPPORT],
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, FieldDefinitionForm(), 200)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = FieldDefinitionForm(request.POST)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                field = services_fields.field_definition_create(
                    actor=actor_get(request),
                    key=data["key"],
                    label=data["label"],
                    type=data["type"],
                    choices=form.choice_list(),
                )
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, f"Added the field “{field.label}”.")
                return redirect("accounts:fields")
        return self._render(request, form, status)

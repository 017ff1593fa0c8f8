"""The mapping web UI: the report (methods over time, conflicts, override patterns) and settings.

Views stay thin: selectors compute the report in SQL, services write, templates render.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from rapport.accounts.forms import split_list
from rapport.accounts.models import Account
from rapport.core.errors import InvalidInput, ServiceError
from rapport.core.query_params import params_whole
from rapport.core.web import (
    HtmxHttpRequest,
    HtmxLoginRequiredMixin,
    is_partial,
    service_error_refuse,
)
from rapport.mapping import selectors, services
from rapport.users.selectors import actor_get

# Column headings of the decisions-by-method table; the full label is the hover text.
METHOD_SHORT = {
    "account_id": "Account id",
    "customer_ref": "Customer ref",
    "slack_channel": "Channel",
    "contact": "Contact",
    "email_domain": "Domain",
    "auto_create": "Created",
    "manual": "Manual",
    "none": "None",
}


def _posted_account(request: HttpRequest) -> Account:
    raw = request.POST.get("account", "").strip()
    number = params_whole(raw)
    if number is None:
        raise InvalidInput("Choose an account.", field="account")
    account = Account.objects.filter(pk=number).first()
    if account is None:
        raise InvalidInput(f"No account with id {raw}; it may have been deleted.", field="account")
    return account


class MappingReportView(HtmxLoginRequiredMixin):
    """Decisions by method over time, the automatic share, open conflicts, override patterns."""

    def get(self, request: HttpRequest) -> HttpResponse:
        report = selectors.mapping_report()
        context = {
            "report": report,
            "is_admin": actor_get(request).is_admin,
            "methods": [
                (value, label, METHOD_SHORT.get(value, label), total)
                for (value, label), total in zip(report.methods, report.method_totals, strict=True)
            ],
            "decision_total": sum(report.method_totals),
        }
        return render(request, "mapping/report.html", context)


class ConflictResolveView(HtmxLoginRequiredMixin):
    """Resolve an open conflict in one click: link its conversation to the chosen candidate."""

    def post(self, request: HtmxHttpRequest, pk: int) -> HttpResponse:
        decision = selectors.mapping_decision_get(pk)
        account: Account | None = None
        error: ServiceError | None = None
        try:
            account = _posted_account(request)
            services.mapping_conflict_resolve(
                actor=actor_get(request), decision=decision, account=account
            )
        except ServiceError as exc:
            error = exc
        if is_partial(request):
            context = {
                "conflict": selectors.conflict_candidates([decision])[0],
                "resolved_to": account if error is None else None,
                "error": error,
            }
            return render(
                request,
                "mapping/conflict_row.html",
                context,
                status=error.status if error else 200,
            )
        if error is not None:
            messages.error(request, error.message)
        elif account is not None:
            messages.success(
                request, f"Resolved: “{decision.conversation}” is now linked to {account.name}."
            )
        return redirect(f"{reverse('mapping:report')}#conflicts")


class PatternApplyView(HtmxLoginRequiredMixin):
    """Add an override pattern's domain to its account's secondary domains (admins only)."""

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        domain = request.POST.get("domain", "").strip()
        account: Account | None = None
        error: ServiceError | None = None
        try:
            account = _posted_account(request)
            services.mapping_pattern_apply(actor=actor_get(request), account=account, domain=domain)
        except ServiceError as exc:
            service_error_refuse(exc)
            error = exc
        if is_partial(request):
            context = {"done": True, "domain": domain, "account": account, "error": error}
            return render(
                request,
                "mapping/pattern_item.html",
                context,
                status=error.status if error else 200,
            )
        if error is not None:
            messages.error(request, error.message)
        elif account is not None:
            messages.success(
                request,
                f"Added {domain} to the secondary domains of {account.name}: new mail from it "
                "links there.",
            )
        return redirect(f"{reverse('mapping:report')}#patterns")


class MappingSettingsForm(forms.Form):
    """Automatic account creation and the admins' changes to the public domain list."""

    auto_create_accounts = forms.BooleanField(
        label="Create an account for a new company domain",
        required=False,
        help_text="When no account matches a non-public email domain, create one named "
        "after the domain and link the conversation to it.",
    )
    public_domains_added = forms.CharField(
        label="Also treat as public",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="One domain per line. Mail from these never links or creates by domain.",
    )
    public_domains_removed = forms.CharField(
        label="Never treat as public",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="One domain per line: company domains the maintained list gets wrong.",
    )


def _settings_response(
    request: HttpRequest, form: MappingSettingsForm, *, status: int = 200
) -> HttpResponse:
    if not actor_get(request).is_admin:
        raise DjangoPermissionDenied("Only an admin can change the mapping settings.")
    lookup = request.GET.get("domain", "").strip()[:300]
    answer = None
    lookup_error = ""
    if lookup:
        try:
            answer = selectors.public_domain_check(lookup)
        except ServiceError as exc:
            lookup_error = exc.message
    context = {
        "form": form,
        "lookup": lookup,
        "answer": answer,
        "lookup_error": lookup_error,
        "base_count": selectors.public_domains_count(),
    }
    return render(request, "mapping/settings.html", context, status=status)


class MappingSettingsView(HtmxLoginRequiredMixin):
    """Mapping settings (admins only): automatic creation, public domains, a lookup."""

    def get(self, request: HttpRequest) -> HttpResponse:
        settings = selectors.mapping_settings_get()
        form = MappingSettingsForm(
            initial={
                "auto_create_accounts": settings.auto_create_accounts,
                "public_domains_added": "\n".join(settings.public_domains_added),
                "public_domains_removed": "\n".join(settings.public_domains_removed),
            }
        )
        return _settings_response(request, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = MappingSettingsForm(request.POST)
        if not actor_get(request).is_admin:
            raise DjangoPermissionDenied("Only an admin can change the mapping settings.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.mapping_settings_update(
                    actor=actor_get(request),
                    auto_create_accounts=data["auto_create_accounts"],
                    public_domains_added=split_list(data["public_domains_added"]),
                    public_domains_removed=split_list(data["public_domains_removed"]),
                )
            except ServiceError as exc:
                service_error_refuse(exc)
                form.add_error(None, exc.message)
                return _settings_response(request, form, status=exc.status)
            messages.success(request, "Saved the mapping settings.")
            return redirect("mapping:settings")
        return _settings_response(request, form, status=400)

"""The SLA settings page: every member reads the policies, admins change them."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from rapport.core.errors import ServiceError
from rapport.core.web import HtmxLoginRequiredMixin, form_add_service_error
from rapport.metrics import selectors, services
from rapport.metrics.forms import WEEKDAYS, SlaPolicyForm
from rapport.users.selectors import actor_get

WEEKDAY_NAMES = dict(WEEKDAYS)


def _page(
    request: HttpRequest,
    *,
    bound: SlaPolicyForm | None = None,
    bound_pk: int | None = None,
    status: int = 200,
) -> HttpResponse:
    policies = list(selectors.sla_policies())
    rows: list[dict[str, Any]] = []
    for policy in policies:
        form = bound if bound is not None and bound_pk == policy.pk else None
        rows.append(
            {
                "policy": policy,
                "days": ", ".join(WEEKDAY_NAMES[d] for d in policy.weekdays if d in WEEKDAY_NAMES),
                "form": form or SlaPolicyForm.for_policy(policy),
                "open": form is not None,
            }
        )
    context = {
        "rows": rows,
        "form": bound if bound is not None and bound_pk is None else SlaPolicyForm(),
        "is_admin": actor_get(request).is_admin,
    }
    return render(request, "metrics/sla_policies.html", context, status=status)


class SlaPolicyListView(HtmxLoginRequiredMixin):
    """List the SLA policies; POST creates one (admins)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return _page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SlaPolicyForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                services.sla_policy_create(actor=actor_get(request), **form.values())
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, "Added the SLA policy.")
                return redirect(reverse("metrics:sla_policies"))
        elif not actor_get(request).is_admin:
            raise DjangoPermissionDenied("Only an admin can manage SLA policies.")
        return _page(request, bound=form, status=status)


class SlaPolicyUpdateView(HtmxLoginRequiredMixin):
    """Change one SLA policy (admins)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        policy = selectors.sla_policy_get(pk)
        form = SlaPolicyForm(request.POST, prefix=f"p{policy.pk}")
        status = 400
        if form.is_valid():
            try:
                services.sla_policy_update(actor=actor_get(request), policy=policy, **form.values())
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, f"Saved the {policy.name} policy.")
                return redirect(reverse("metrics:sla_policies"))
        elif not actor_get(request).is_admin:
            raise DjangoPermissionDenied("Only an admin can manage SLA policies.")
        return _page(request, bound=form, bound_pk=policy.pk, status=status)


class SlaPolicyDeleteView(HtmxLoginRequiredMixin):
    """Delete one SLA policy (admins)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        policy = selectors.sla_policy_get(pk)
        services.sla_policy_delete(actor=actor_get(request), policy=policy)
        messages.success(request, f"Deleted the {policy.name} policy.")
        return redirect(reverse("metrics:sla_policies"))

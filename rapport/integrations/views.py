"""The Integrations page: each integration's state, what waits, and "Test connection"."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from rapport.core.errors import ServiceError
from rapport.core.web import HtmxLoginRequiredMixin, service_error_refuse, url_with_query
from rapport.integrations.selectors import integration_statuses
from rapport.integrations.services import integration_test_run
from rapport.users.selectors import actor_get
from rapport.users.services import user_require_admin


def _integrations_response(
    request: HttpRequest, *, error: ServiceError | None = None
) -> HttpResponse:
    user_require_admin(actor_get(request), "see the integrations")
    rows = [
        (status, url_with_query("outbox:deliveries", {"action": status.actions}))
        for status in integration_statuses()
    ]
    context = {"integrations": rows, "error": error}
    return render(request, "integrations/list.html", context, status=error.status if error else 200)


class IntegrationListView(HtmxLoginRequiredMixin):
    """Every integration: connected, failing (with the last error) or not configured."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return _integrations_response(request)


class IntegrationTestView(HtmxLoginRequiredMixin):
    """Test one integration's connection now, and show the result (admins only)."""

    def post(self, request: HttpRequest, key: str) -> HttpResponse:
        try:
            health = integration_test_run(actor=actor_get(request), key=key)
        except ServiceError as exc:
            service_error_refuse(exc)
            return _integrations_response(request, error=exc)
        if health.test_ok:
            messages.success(request, f"Connection test passed: {health.test_detail}")
        else:
            messages.error(request, f"Connection test failed: {health.test_detail}")
        return redirect(f"{reverse('integrations:list')}#integration-{key}")

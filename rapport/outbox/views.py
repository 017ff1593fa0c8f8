"""The deliveries page: outside calls queued, retrying or failed, with "Retry now" (admins)."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from rapport.core.errors import ServiceError
from rapport.core.pagination import page_number_parse
from rapport.core.query_params import params_clean
from rapport.core.web import HtmxLoginRequiredMixin, next_url, service_error_refuse, url_with_query
from rapport.outbox.filters import STATES, OutboxFilterSet
from rapport.outbox.handlers import HANDLERS
from rapport.outbox.selectors import outbox_item_page
from rapport.outbox.services import outbox_item_retry
from rapport.users.selectors import actor_get
from rapport.users.services import user_require_admin

PAGE_SIZE = 50


def _page_url(filters: OutboxFilterSet, page: int = 1) -> str:
    query: dict[str, Any] = filters.as_query()
    if page > 1:
        query["page"] = str(page)
    return url_with_query("outbox:deliveries", query)


def _deliveries_response(
    request: HttpRequest, *, error: ServiceError | None = None
) -> HttpResponse:
    user_require_admin(actor_get(request), "see the outside calls")
    params = params_clean(request.GET)
    page_number = 1
    try:
        filters = OutboxFilterSet.from_params(params)
        page_number = page_number_parse(params)
    except ServiceError as exc:
        error = error or exc
        filters = OutboxFilterSet()
    page = outbox_item_page(filters, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    context = {
        "page": page,
        "filters": filters,
        "error": error,
        "states": [(str(s), s.label) for s in STATES],
        "actions": sorted(HANDLERS),
        "this_url": _page_url(filters, page_number),
        "previous_url": _page_url(filters, page_number - 1) if page_number > 1 else "",
        "next_url": _page_url(filters, page_number + 1) if page.has_next else "",
        "first_page_url": _page_url(filters),
    }
    return render(request, "outbox/deliveries.html", context, status=error.status if error else 200)


class DeliveryListView(HtmxLoginRequiredMixin):
    """Outside calls not made yet: queued, retrying (attempts, next try, error) or failed."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return _deliveries_response(request)


class DeliveryRetryView(HtmxLoginRequiredMixin):
    """Make a failed or retrying call due now (admins only)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            item = outbox_item_retry(actor=actor_get(request), item_id=pk)
        except ServiceError as exc:
            service_error_refuse(exc)
            return _deliveries_response(request, error=exc)
        messages.success(request, f"Queued {item.action} #{item.pk} to be sent now.")
        return redirect(next_url(request, reverse("outbox:deliveries")))

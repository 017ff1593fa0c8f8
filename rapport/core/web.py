"""The web kit: what every app's pages share.

htmx requests and the login redirect that suits them, the one mapping from a
ServiceError to the page that answers it, and URLs with query strings.
"""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from rapport.core.errors import NotFound, PermissionDenied, ServiceError


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def is_partial(request: HttpRequest) -> bool:
    """Answer an htmx request with a fragment, except when htmx restores history."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def service_error_page(exc: ServiceError) -> Exception | None:
    """Return the Django exception whose error page answers *exc*, or None.

    A refused action gets the 403 page and a missing object the 404 page. Any other
    error is the page's own to show, next to the input that caused it and with the
    error's status.
    """
    if isinstance(exc, PermissionDenied):
        return DjangoPermissionDenied(exc.message)
    if isinstance(exc, NotFound):
        return Http404(exc.message)
    return None


def service_error_refuse(exc: ServiceError) -> None:
    """Answer a refused action with the 403 page; any other error is the page's to show."""
    if isinstance(exc, PermissionDenied):
        raise DjangoPermissionDenied(exc.message) from None


def form_add_service_error(form: forms.BaseForm, exc: ServiceError) -> None:
    """Show a service's error next to the field it names, or above the form.

    A refused action is no form error: it gets the 403 page.
    """
    service_error_refuse(exc)
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def service_error_response(exc: ServiceError) -> HttpResponse:
    """Answer *exc* with its error page, or with its message as plain text."""
    page = service_error_page(exc)
    if page is not None:
        raise page from None
    return HttpResponse(exc.message, status=exc.status, content_type="text/plain")


class ServiceErrorMixin(View):
    """Answer a ServiceError that the view lets through with `service_error_response`.

    A view catches the errors it shows on its page, and lets a refused action
    (PermissionDenied) or a missing object (NotFound) through to their error pages.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return super().dispatch(request, *args, **kwargs)
        except ServiceError as exc:
            return service_error_response(exc)


class HtmxLoginRequiredMixin(LoginRequiredMixin, ServiceErrorMixin):
    """Send anonymous visitors to the login page, the whole page even from an htmx request.

    A plain redirect would make htmx swap the login form into a table cell.
    """

    # An htmx redirect answers 200 with a header, so it is no HttpResponseRedirect.
    def handle_no_permission(self) -> HttpResponse:  # type: ignore[override]
        htmx = getattr(self.request, "htmx", None)
        if htmx:
            page = htmx.current_url_abs_path or settings.LOGIN_REDIRECT_URL
            return HttpResponseClientRedirect(f"{settings.LOGIN_URL}?{urlencode({'next': page})}")
        return super().handle_no_permission()


def url_with_query(name: str, query: dict[str, Any], *args: Any) -> str:
    """Reverse the URL *name* with a query string of the non-blank values of *query*."""
    encoded = urlencode({k: v for k, v in query.items() if v not in (None, "", [])}, doseq=True)
    return reverse(name, args=args) + (f"?{encoded}" if encoded else "")


def next_url(request: HttpRequest, default: str) -> str:
    """Return the page to go back to after a POST: a local `next`, or *default*."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default

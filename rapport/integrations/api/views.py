"""The outbound webhook's page: its URL, its signing secret and the secret's rotation."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rapport.core.errors import ServiceError
from rapport.core.web import HtmxLoginRequiredMixin
from rapport.integrations.api.services import (
    outbound_webhook_get,
    outbound_webhook_secret_rotate,
    outbound_webhook_url_set,
)
from rapport.users.models import User


def _admin(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_admin:
        # The secret signs what Rapport sends: only an admin sees it.
        raise DjangoPermissionDenied("Only an admin can see and change the outbound webhook.")
    return user


class OutboundWebhookView(HtmxLoginRequiredMixin):
    """Show the webhook; set its URL or rotate its secret (admins only)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        _admin(request)
        return self._page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        actor = _admin(request)
        try:
            if "rotate" in request.POST:
                outbound_webhook_secret_rotate(actor=actor)
                messages.success(request, "Made a new signing secret; the old one is void now.")
            else:
                webhook = outbound_webhook_url_set(actor=actor, url=request.POST.get("url", ""))
                messages.success(
                    request,
                    "Saved the webhook URL." if webhook.url else "Replies are no longer posted.",
                )
        except ServiceError as exc:
            return self._page(request, error=exc, url=request.POST.get("url", ""))
        return redirect("api_channel:webhook")

    def _page(
        self, request: HttpRequest, *, error: ServiceError | None = None, url: str | None = None
    ) -> HttpResponse:
        webhook = outbound_webhook_get()
        context = {"webhook": webhook, "url": webhook.url if url is None else url, "error": error}
        status = error.status if error else 200
        return render(request, "api_channel/webhook.html", context, status=status)

"""The outbound webhook's page: its URL, its signing secret and the secret's rotation."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rapport.core.errors import ServiceError
from rapport.core.web import HtmxLoginRequiredMixin
from rapport.integrations.api.models import OutboundWebhook
from rapport.integrations.api.services import (
    outbound_webhook_for_admin,
    outbound_webhook_secret_rotate,
    outbound_webhook_url_set,
)
from rapport.users.selectors import actor_get


class OutboundWebhookView(HtmxLoginRequiredMixin):
    """Show the webhook; set its URL or rotate its secret (admins only)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        webhook = outbound_webhook_for_admin(actor=actor_get(request))
        return self._page(request, webhook)

    def post(self, request: HttpRequest) -> HttpResponse:
        actor = actor_get(request)
        webhook = outbound_webhook_for_admin(actor=actor)  # a member gets the 403 page
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
            return self._page(request, webhook, error=exc, url=request.POST.get("url", ""))
        return redirect("api_channel:webhook")

    def _page(
        self,
        request: HttpRequest,
        webhook: OutboundWebhook,
        *,
        error: ServiceError | None = None,
        url: str | None = None,
    ) -> HttpResponse:
        context = {"webhook": webhook, "url": webhook.url if url is None else url, "error": error}
        status = error.status if error else 200
        return render(request, "api_channel/webhook.html", context, status=status)

"""The API tokens page: every member lists, creates and revokes their own tokens."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rapport.core.errors import ServiceError
from rapport.core.web import HtmxLoginRequiredMixin, form_add_service_error
from rapport.users import selectors
from rapport.users.forms import ApiTokenForm
from rapport.users.models import ApiToken
from rapport.users.services import api_token_create, api_token_revoke


def _page(
    request: HttpRequest,
    *,
    form: ApiTokenForm | None = None,
    created: tuple[ApiToken, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "tokens": list(selectors.api_tokens_of(selectors.actor_get(request))),
        "form": form or ApiTokenForm(),
        "created": created[0] if created else None,
        "raw": created[1] if created else "",
        "api_url": settings.SITE_URL.rstrip("/") + "/api/v1/accounts",
    }
    return render(request, "users/tokens.html", context, status=status)


class ApiTokenListView(HtmxLoginRequiredMixin):
    """List the member's tokens; POST creates one and shows its secret, this once."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return _page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        actor = selectors.actor_get(request)
        form = ApiTokenForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                created = api_token_create(user=actor, actor=actor, **form.cleaned_data)
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                # The secret is in this answer only: a redirect would have to keep it
                # somewhere (a cookie, the session) to show it on the next page.
                return _page(request, created=created)
        return _page(request, form=form, status=status)


class ApiTokenRevokeView(HtmxLoginRequiredMixin):
    """Revoke one of the member's tokens; it stops working at once."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        actor = selectors.actor_get(request)
        token = selectors.api_token_of(actor, pk)  # another member's token: 404
        api_token_revoke(token=token, actor=actor)
        messages.success(request, f"Revoked the token {token.name or token.prefix + '…'}.")
        return redirect("users:tokens")

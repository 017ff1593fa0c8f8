"""Request settings: the workspace's, and each channel's overrides. Admins edit, members read."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rapport.core.errors import ServiceError
from rapport.core.query_params import params_whole
from rapport.core.specs import FieldSpec, Kind
from rapport.core.web import HtmxLoginRequiredMixin, form_add_service_error, url_with_query
from rapport.inbox.models import Channel
from rapport.requests import selectors
from rapport.requests.config import request_settings_get
from rapport.requests.forms import ChannelOverridesForm, RequestSettingsForm
from rapport.requests.models import ChannelRequestSettings
from rapport.requests.services import channel_request_settings_update, request_settings_update
from rapport.requests.specs import CHANNEL_SPECS
from rapport.users.selectors import actor_get

CHANNELS_PAGE_SIZE = 50


def _override_text(overrides: ChannelRequestSettings | None, spec: FieldSpec) -> str:
    value = getattr(overrides, spec.name) if overrides is not None else None
    if value is None:
        return ""
    # A mode shows as its short value: the table has a narrow column per setting.
    return spec.show(value) if spec.kind == Kind.BOOL else str(value)


def _page_number(raw: str) -> int:
    number = params_whole(raw)
    return number if number is not None and 0 < number <= 1_000_000 else 1


class RequestSettingsView(HtmxLoginRequiredMixin):
    """The workspace's request settings and the channels that override them."""

    def _render(
        self, request: HttpRequest, form: RequestSettingsForm, status: int = 200
    ) -> HttpResponse:
        q = " ".join(request.GET.get("q", "").split())[:100]
        number = _page_number(request.GET.get("page", "1"))
        page = selectors.channel_settings_page(
            q=q, limit=CHANNELS_PAGE_SIZE, offset=(number - 1) * CHANNELS_PAGE_SIZE
        )
        rows = []
        for channel in page.items:
            overrides = getattr(channel, "request_settings", None)
            cells = [_override_text(overrides, spec) for spec in CHANNEL_SPECS]
            rows.append((channel, cells, any(cells)))
        context = {
            "form": form,
            "is_admin": actor_get(request).is_admin,
            "rows": rows,
            "page": page,
            "q": q,
            "headers": [spec.label for spec in CHANNEL_SPECS],
            "previous_url": url_with_query("requests:settings", {"q": q, "page": number - 1})
            if number > 1
            else "",
            "next_url": url_with_query("requests:settings", {"q": q, "page": number + 1})
            if page.has_next
            else "",
        }
        return render(request, "requests/settings.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        is_admin = actor_get(request).is_admin
        form = RequestSettingsForm(settings=request_settings_get(), read_only=not is_admin)
        return self._render(request, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        actor = actor_get(request)
        if not actor.is_admin:
            raise DjangoPermissionDenied("Only an admin can change the request settings.")
        form = RequestSettingsForm(request.POST, settings=request_settings_get())
        status = 400
        if form.is_valid():
            try:
                request_settings_update(actor=actor, values=form.values())
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, "Saved the request settings.")
                return redirect("requests:settings")
        return self._render(request, form, status)


class ChannelRequestSettingsView(HtmxLoginRequiredMixin):
    """One channel's overrides of the request settings; blank inherits the workspace's."""

    def _render(
        self, request: HttpRequest, channel: Channel, form: ChannelOverridesForm, status: int = 200
    ) -> HttpResponse:
        context = {"channel": channel, "form": form, "is_admin": actor_get(request).is_admin}
        return render(request, "requests/channel_settings.html", context, status=status)

    def _form(self, request: HttpRequest, channel: Channel) -> ChannelOverridesForm:
        return ChannelOverridesForm(
            *([request.POST] if request.method == "POST" else []),
            workspace=request_settings_get(),
            overrides=getattr(channel, "request_settings", None),
            read_only=not actor_get(request).is_admin,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        channel = selectors.channel_with_settings_get(pk)
        return self._render(request, channel, self._form(request, channel))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        actor = actor_get(request)
        channel = selectors.channel_with_settings_get(pk)
        if not actor.is_admin:
            raise DjangoPermissionDenied("Only an admin can change the request settings.")
        form = self._form(request, channel)
        status = 400
        if form.is_valid():
            try:
                channel_request_settings_update(actor=actor, channel=channel, values=form.values())
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, f"Saved the request settings of #{channel.name}.")
                return redirect("requests:settings")
        return self._render(request, channel, form, status)

"""The web chat sites page, in the Settings menu: sites, their origins, snippet and identity.

Admins only (the services check it too). A site's identity secret is shown once, on
the page that follows its creation or rotation, and never again: it is carried there
in the session and taken out as it is shown.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers

from rapport.core.errors import ServiceError
from rapport.core.web import HtmxLoginRequiredMixin, form_add_service_error
from rapport.integrations.webchat.forms import ChatSiteForm
from rapport.integrations.webchat.models import IDENTITY_SECRET_PREFIX, ChatSite
from rapport.integrations.webchat.selectors import chat_site_get, chat_sites
from rapport.integrations.webchat.services import (
    chat_site_create,
    chat_site_identity_secret_rotate,
    chat_site_update,
)
from rapport.integrations.webchat.snippets import (
    chat_site_snippet,
    chat_site_snippet_identified,
)
from rapport.users.models import User
from rapport.users.selectors import actor_get
from rapport.users.services import user_require_admin

_PENDING_SESSION_KEY = "webchat.identity_secret"


def _admin(request: HttpRequest) -> User:
    actor = actor_get(request)
    user_require_admin(actor, "manage web chat sites")
    return actor


def _secret_show_next(request: HttpRequest, site: ChatSite) -> None:
    request.session[_PENDING_SESSION_KEY] = {"site": site.pk, "secret": site.identity_secret}


def _secret_take(request: HttpRequest, site: ChatSite) -> str:
    """Return *site*'s secret when this page is the one to show it, and forget it."""
    waiting = request.session.get(_PENDING_SESSION_KEY)
    if not isinstance(waiting, dict) or waiting.get("site") != site.pk:
        return ""
    del request.session[_PENDING_SESSION_KEY]
    return str(waiting.get("secret") or "")


def _secret_hint(site: ChatSite) -> str:
    return f"{IDENTITY_SECRET_PREFIX}…{site.identity_secret[-4:]}"


class ChatSiteListView(HtmxLoginRequiredMixin):
    """Every site that embeds the widget; POST adds one."""

    def get(self, request: HttpRequest) -> HttpResponse:
        _admin(request)
        return self._page(request, ChatSiteForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        actor = _admin(request)
        form = ChatSiteForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                site = chat_site_create(actor=actor, **form.cleaned_data)
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                _secret_show_next(request, site)
                messages.success(
                    request, f"Added {site.name}. Paste its snippet, and copy its secret now."
                )
                return redirect("webchat:site", site.pk)
        return self._page(request, form, status=status)

    def _page(self, request: HttpRequest, form: ChatSiteForm, status: int = 200) -> HttpResponse:
        context = {"sites": chat_sites(), "form": form}
        return render(request, "webchat/sites.html", context, status=status)


class ChatSiteDetailView(HtmxLoginRequiredMixin):
    """One site: its snippet, its settings, and its identity secret."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        _admin(request)
        site = chat_site_get(pk)
        return self._page(request, site, ChatSiteForm.for_site(site))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        actor = _admin(request)
        site = chat_site_get(pk)
        form = ChatSiteForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                site = chat_site_update(actor=actor, site=site, **form.cleaned_data)
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, f"Saved {site.name}.")
                return redirect("webchat:site", site.pk)
        return self._page(request, site, form, status=status)

    def _page(
        self, request: HttpRequest, site: ChatSite, form: ChatSiteForm, status: int = 200
    ) -> HttpResponse:
        context = {
            "site": site,
            "form": form,
            "snippet": chat_site_snippet(site, settings.SITE_URL),
            "snippet_identified": chat_site_snippet_identified(site, settings.SITE_URL),
            "secret": _secret_take(request, site),
            "secret_hint": _secret_hint(site),
        }
        response = render(request, "webchat/site.html", context, status=status)
        # The page may carry the secret: keep it out of every cache and the back button.
        add_never_cache_headers(response)
        return response


class ChatSiteSecretRotateView(HtmxLoginRequiredMixin):
    """Draw a new identity secret for a site; the old one stops verifying at once."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        actor = _admin(request)
        site = chat_site_identity_secret_rotate(actor=actor, site=chat_site_get(pk))
        _secret_show_next(request, site)
        messages.success(
            request,
            "Made a new identity secret; hashes signed with the old one are refused from now "
            "on. Copy it to the site's backend now: it is shown only this once.",
        )
        return redirect("webchat:site", site.pk)

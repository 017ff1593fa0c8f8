"""The page an invitation link opens: the invitee picks a name and password and joins."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from rapport.core.errors import ServiceError
from rapport.users.forms import InvitationAcceptForm
from rapport.users.models import Invitation
from rapport.users.services_invitations import invitation_accept, invitation_for_token

# Where a service's error shows on the form: it names its own fields.
_FORM_FIELDS = {"password": "password1", "name": "name"}


def _closed(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    """Say why the link does not work (unknown, used, revoked, expired), with its status."""
    return render(
        request, "users/invitation_closed.html", {"message": exc.message}, status=exc.status
    )


@method_decorator(never_cache, name="dispatch")
class InvitationAcceptView(View):
    """Show the invitation; POST creates the member, logs them in and opens Rapport."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            invitation = invitation_for_token(token)
        except ServiceError as exc:
            return _closed(request, exc)
        form = InvitationAcceptForm(initial={"name": invitation.name})
        return self._page(request, invitation, form)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            invitation = invitation_for_token(token)
        except ServiceError as exc:
            return _closed(request, exc)
        form = InvitationAcceptForm(request.POST)
        if not form.is_valid():
            return self._page(request, invitation, form, status=400)
        try:
            member = invitation_accept(
                raw=token, name=form.cleaned_data["name"], password=form.cleaned_data["password1"]
            )
        except ServiceError as exc:
            if exc.field not in _FORM_FIELDS:
                return _closed(request, exc)
            form.add_error(_FORM_FIELDS[exc.field], exc.message)
            return self._page(request, invitation, form, status=exc.status)
        login(request, member, backend=settings.AUTHENTICATION_BACKENDS[0])
        messages.success(request, f"Welcome to Rapport, {member.display_name}.")
        return redirect(settings.LOGIN_REDIRECT_URL)

    def _page(
        self,
        request: HttpRequest,
        invitation: Invitation,
        form: InvitationAcceptForm,
        *,
        status: int = 200,
    ) -> HttpResponse:
        context = {"invitation": invitation, "form": form}
        return render(request, "users/invitation_accept.html", context, status=status)

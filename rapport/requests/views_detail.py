"""A request's page: its thread, timeline and details, and the actions a member takes."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rapport.core.errors import ServiceError
from rapport.core.web import HtmxLoginRequiredMixin, next_url, service_error_refuse
from rapport.inbox.selectors import members_active
from rapport.requests import selectors
from rapport.requests.config import request_settings_get
from rapport.requests.forms import assignee_id_parse, request_action_with_message
from rapport.requests.models import Request
from rapport.users.selectors import actor_get


def _request(pk: int, *, detail: bool = False) -> Request:
    return selectors.request_detail(pk) if detail else selectors.request_get(pk)


class RequestDetailView(HtmxLoginRequiredMixin):
    """One request: the customer's messages, what happened to it, and its actions."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = _request(pk, detail=True)
        activities, users = selectors.request_timeline(item)
        context = {
            "item": item,
            "thread": selectors.request_thread(item),
            "activities": activities,
            "users": users,
            "members": members_active(),
            "ticketing": bool(request_settings_get().ticket_address),
        }
        return render(request, "requests/detail.html", context)


class RequestActionView(HtmxLoginRequiredMixin):
    """Run one action on a request (take, assign, hold, wait, close, reopen, ticket).

    Comes back to the page it was posted from (`next`), with what happened or why not.
    """

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = _request(pk)
        action = request.POST.get("action", "")
        try:
            assignee_id = assignee_id_parse(request.POST.get("assignee"))
            item, text = request_action_with_message(
                request=item,
                action=action,
                actor=actor_get(request),
                assignee_id=assignee_id,
                via="web",
            )
        except ServiceError as exc:
            service_error_refuse(exc)
            messages.error(request, exc.message)
        else:
            messages.success(request, text)
        return redirect(next_url(request, item.get_absolute_url()))

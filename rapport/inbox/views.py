"""The inbox web UI: the conversation list, a conversation's page and the Slack channels page.

Views stay thin: the filter set parses the query, a selector reads, a service writes, a
template renders. A ServiceError becomes a message on the page that caused it, answered
with the error's HTTP status.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import push_url

from rapport.accounts.models import Account
from rapport.accounts.selectors import accounts_by_ids
from rapport.core.errors import InvalidInput, ServiceError
from rapport.core.pagination import page_number_parse
from rapport.core.query_params import params_clean, params_ids, params_whole
from rapport.core.web import (
    HtmxHttpRequest,
    HtmxLoginRequiredMixin,
    is_partial,
    next_url,
    service_error_refuse,
)
from rapport.inbox import selectors
from rapport.inbox.filters import ConversationFilterSet
from rapport.inbox.models import Channel, DeliveryStatus, Message, Source
from rapport.inbox.services import (
    channel_set_accounts,
    channel_set_csm_by_id,
    conversation_reply,
    reply_retry,
)
from rapport.mapping.models import MappingDecision, MappingOutcome
from rapport.mapping.selectors import conflict_candidates
from rapport.mapping.services import mapping_override
from rapport.requests.services import message_assign
from rapport.users.models import User
from rapport.users.selectors import actor_get

PAGE_SIZE = 50
CHANNELS_PAGE_SIZE = 50


def _url(name: str, query: dict[str, Any]) -> str:
    encoded = urlencode(query, doseq=True)
    return reverse(name) + (f"?{encoded}" if encoded else "")


# --- inbox ---------------------------------------------------------------------------------


def _inbox_url(filters: ConversationFilterSet, *, page: int = 1, **changes: Any) -> str:
    query = filters.as_query() | changes
    query = {k: v for k, v in query.items() if v not in (None, "", [])}
    if page > 1:
        query["page"] = str(page)
    return _url("inbox:list", query)


def _inbox_response(request: HtmxHttpRequest, params: QueryDict) -> HttpResponse:
    """Render the inbox for *params*: the whole page, or only its results for htmx."""
    error: ServiceError | None = None
    page_number = 1
    try:
        filters = ConversationFilterSet.from_params(params)
        page_number = page_number_parse(params)
    except ServiceError as exc:
        error = exc
        filters = ConversationFilterSet()
    page = selectors.conversation_page(
        filters, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE
    )
    selected_accounts = accounts_by_ids(filters.accounts)
    partial = is_partial(request)
    context = {
        "page": page,
        "filters": filters,
        "error": error,
        "selected_accounts": [
            (account, _inbox_url(filters, account=[a for a in filters.accounts if a != account.pk]))
            for account in selected_accounts
        ],
        "previous_url": _inbox_url(filters, page=page_number - 1) if page_number > 1 else "",
        "next_url": _inbox_url(filters, page=page_number + 1) if page.has_next else "",
        "first_page_url": _inbox_url(filters),
        "sources": Source.choices,
        "outcomes": MappingOutcome.choices,
        "oob": partial,
    }
    if not partial:
        context["channels"] = selectors.channel_choices()
    template = "inbox/list.html#results" if partial else "inbox/list.html"
    response = render(request, template, context, status=error.status if error else 200)
    if partial and error is None:
        # The server names the URL to push, so blank controls never reach the address bar.
        push_url(response, _inbox_url(filters, page=page_number))
    patch_vary_headers(response, ("HX-Request",))
    return response


class InboxView(HtmxLoginRequiredMixin):
    """Every conversation, newest activity first, with its account and mapping outcome."""

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        return _inbox_response(request, params_clean(request.GET))


class AccountSearchView(HtmxLoginRequiredMixin):
    """Accounts matching a few words, as filter links or as choices of a form.

    `mode=filter` answers links that add the account to the inbox filters sent along;
    otherwise radio buttons (or checkboxes with `multiple=1`) named `account`.
    """

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        params = params_clean(request.GET)
        q = params.get("account_q", "")
        accounts = selectors.account_search(q)
        options: list[tuple[Account, str]] = []
        if params.get("mode") == "filter":
            try:
                filters = ConversationFilterSet.from_params(params)
            except ServiceError:
                filters = ConversationFilterSet()
            options = [
                (a, _inbox_url(filters, account=[*filters.accounts, a.pk], unlinked=None))
                for a in accounts
            ]
        else:
            options = [(a, "") for a in accounts]
        context = {
            "options": options,
            "q": q,
            "input_type": "checkbox" if params.get("multiple") else "radio",
        }
        return render(request, "inbox/account_options.html", context)


# --- a conversation --------------------------------------------------------------------------


def _conversation_response(
    request: HttpRequest,
    pk: int,
    *,
    error: ServiceError | None = None,
) -> HttpResponse:
    conversation = selectors.conversation_detail(pk)
    decisions: list[MappingDecision] = getattr(conversation, "decisions_shown", [])
    in_force = decisions[0] if decisions else None
    candidates = conflict_candidates([in_force])[0].candidates if in_force else []
    account_q = request.GET.get("account_q", "").strip()[:200] if request.method == "GET" else ""
    context = {
        "conversation": conversation,
        "messages_shown": getattr(conversation, "messages_shown", []),
        "decisions": decisions,
        "in_force": in_force,
        "candidates": candidates,
        "choices": [c for c in candidates if c.exists and c.id != conversation.account_id],
        "account_q": account_q,
        "search_options": [(a, "") for a in selectors.account_search(account_q)]
        if account_q
        else [],
        "members": selectors.members_active(),
        "error": error,
    }
    return render(
        request, "inbox/conversation.html", context, status=error.status if error else 200
    )


class ConversationDetailView(HtmxLoginRequiredMixin):
    """One conversation: its messages, requester, account and every mapping decision."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return _conversation_response(request, pk)


class ConversationAccountView(HtmxLoginRequiredMixin):
    """Move a conversation to another account by hand, or unlink it. Any member may."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        conversation = selectors.conversation_get(pk)
        account: Account | None = None
        try:
            if "unlink" not in request.POST:
                raw = request.POST.get("account", "").strip()
                if not raw:
                    raise InvalidInput("Choose the account to link the conversation to.")
                account_id = params_whole(raw)
                if account_id is None:
                    raise InvalidInput(f"account must be an id, not {raw!r}.")
                account = Account.objects.filter(pk=account_id).first()
                if account is None:
                    raise InvalidInput(f"No account with id {raw}.")
            mapping_override(actor=actor_get(request), conversation=conversation, account=account)
        except ServiceError as exc:
            return _conversation_response(request, pk, error=exc)
        messages.success(
            request,
            f"Moved the conversation to {account.name}."
            if account
            else "Unlinked the conversation.",
        )
        return redirect(conversation)


class ConversationReplyView(HtmxLoginRequiredMixin):
    """Send the team's reply to a conversation through its channel."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        conversation = selectors.conversation_get(pk)
        try:
            reply = conversation_reply(
                actor=actor_get(request),
                conversation=conversation,
                text=request.POST.get("text", ""),
            )
        except ServiceError as exc:
            return _conversation_response(request, pk, error=exc)
        channel = conversation.get_source_display()
        if reply.delivery_status == DeliveryStatus.SENT:
            messages.success(request, f"Sent the reply through {channel}.")
        else:
            messages.success(
                request, f"Queued the reply; it goes out through {channel} in a moment."
            )
        return redirect(next_url(request, conversation.get_absolute_url()))


class MessageRetryView(HtmxLoginRequiredMixin):
    """Send again a reply that its channel refused."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        message = Message.objects.select_related("conversation").filter(pk=pk).first()
        if message is None:
            raise Http404("No such message.")
        try:
            reply_retry(actor=actor_get(request), message=message)
        except ServiceError as exc:
            return _conversation_response(request, message.conversation_id, error=exc)
        messages.success(request, "Queued the reply again.")
        return redirect(next_url(request, message.conversation.get_absolute_url()))


class MessageAssignView(HtmxLoginRequiredMixin):
    """Assign a customer message's request; a message that is not one becomes one."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        message = Message.objects.select_related("conversation").filter(pk=pk).first()
        if message is None:
            raise Http404("No such message.")
        raw = request.POST.get("assignee", "").strip()
        try:
            assignee_id = params_whole(raw)
            assignee = (
                User.objects.filter(pk=assignee_id, is_active=True).first()
                if assignee_id is not None
                else None
            )
            if assignee is None:
                raise InvalidInput("Choose the member to assign the request to.", field="assignee")
            customer_request = message_assign(
                message=message, assignee=assignee, actor=actor_get(request)
            )
        except ServiceError as exc:
            return _conversation_response(request, message.conversation_id, error=exc)
        messages.success(
            request, f"Request #{customer_request.pk} is assigned to {assignee.display_name}."
        )
        return redirect(message.conversation)


# --- Slack channels ---------------------------------------------------------------------------


def _channels_response(
    request: HttpRequest,
    *,
    error: ServiceError | None = None,
    error_channel: int | None = None,
) -> HttpResponse:
    params = params_clean(request.GET)
    try:
        page_number = page_number_parse(params)
    except ServiceError:
        page_number = 1
    page = selectors.channel_page(
        limit=CHANNELS_PAGE_SIZE, offset=(page_number - 1) * CHANNELS_PAGE_SIZE
    )
    base = reverse("inbox:channels")
    is_admin = actor_get(request).is_admin
    # Without htmx, an admin's account search comes back as ?channel=<id>&account_q=...
    search_channel = params.get("channel", "")
    account_q = params.get("account_q", "")[:200]
    context = {
        "page": page,
        "search_channel": params_whole(search_channel),
        "account_q": account_q,
        "search_options": [(a, "") for a in selectors.account_search(account_q)]
        if account_q and search_channel
        else [],
        "is_admin": is_admin,
        "members": selectors.members_active() if is_admin else [],
        "error": error,
        "error_channel": error_channel,
        "previous_url": f"{base}?page={page_number - 1}" if page_number > 1 else "",
        "next_url": f"{base}?page={page_number + 1}" if page.has_next else "",
    }
    return render(request, "inbox/channels.html", context, status=error.status if error else 200)


class ChannelListView(HtmxLoginRequiredMixin):
    """The Slack channels shared with customers and the accounts each one is linked to."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return _channels_response(request)


class ChannelAccountsView(HtmxLoginRequiredMixin):
    """Link a Slack channel to exactly the accounts picked (admins only)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        channel: Channel = selectors.channel_get(pk)
        raw = [v.strip() for v in request.POST.getlist("account") if v.strip()]
        try:
            ids = sorted(params_ids(raw, "account"))
            accounts = accounts_by_ids(ids)
            if len(accounts) != len(ids):
                missing = sorted(set(ids) - {a.pk for a in accounts})
                raise InvalidInput(f"No account with id {', '.join(map(str, missing))}.")
            channel_set_accounts(actor=actor_get(request), channel=channel, accounts=accounts)
        except ServiceError as exc:
            service_error_refuse(exc)
            return _channels_response(request, error=exc, error_channel=channel.pk)
        names = ", ".join(a.name for a in accounts) or "no account"
        messages.success(request, f"Linked #{channel.name} to {names}.")
        return redirect(f"{reverse('inbox:channels')}#channel-{channel.pk}")


class ChannelCsmView(HtmxLoginRequiredMixin):
    """Name the member who looks after a Slack channel, or clear it (admins only)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        channel: Channel = selectors.channel_get(pk)
        try:
            channel = channel_set_csm_by_id(
                actor=actor_get(request), channel=channel, csm=request.POST.get("csm", "").strip()
            )
        except ServiceError as exc:
            service_error_refuse(exc)
            return _channels_response(request, error=exc, error_channel=channel.pk)
        csm = channel.csm
        messages.success(
            request,
            f"{csm.display_name} is now the CSM of #{channel.name}."
            if csm
            else f"#{channel.name} has no CSM now.",
        )
        return redirect(f"{reverse('inbox:channels')}#channel-{channel.pk}")

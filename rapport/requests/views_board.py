"""The request board (a column per state), its column pages and moves, and My queue."""

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from rapport.accounts.selectors import accounts_by_ids
from rapport.core.errors import ServiceError
from rapport.core.query_params import params_clean
from rapport.core.web import HtmxLoginRequiredMixin, url_with_query
from rapport.inbox.models import Source
from rapport.inbox.selectors import account_search, members_active
from rapport.requests import selectors
from rapport.requests.filters import RequestFilterSet
from rapport.requests.models import RequestStatus
from rapport.requests.services import request_status_set
from rapport.users.selectors import actor_get

PAGE_SIZE = 25
QUEUE_SIZE = 100


def _filters(request: HttpRequest) -> tuple[RequestFilterSet, ServiceError | None]:
    try:
        params = params_clean(request.GET)
        return RequestFilterSet.from_params(params, user_id=actor_get(request).pk), None
    except ServiceError as exc:
        return RequestFilterSet(), exc


def _board_url(filters: RequestFilterSet, **changes: Any) -> str:
    return url_with_query("requests:board", filters.as_query() | changes)


def _more_url(filters: RequestFilterSet, status: str, cursor: str) -> str:
    if not cursor:
        return ""
    return url_with_query("requests:column", filters.as_query() | {"after": cursor}, status)


class RequestBoardView(HtmxLoginRequiredMixin):
    """Every request in a column per state, with filters in the URL so a view can be shared."""

    def get(self, request: HttpRequest) -> HttpResponse:
        filters, error = _filters(request)
        board = selectors.board_get(filters, limit=PAGE_SIZE)
        for column in board.columns:
            column.more_url = _more_url(filters, column.status, column.next_cursor)
        accounts = accounts_by_ids(filters.accounts)
        channels = selectors.channels_by_ids(filters.channels)
        context = {
            "board": board,
            "filters": filters,
            "error": error,
            "members": members_active(),
            "sources": Source.choices,
            "selected_accounts": [
                (a, _board_url(filters, account=[x for x in filters.accounts if x != a.pk]))
                for a in accounts
            ],
            "selected_channels": [
                (c, _board_url(filters, channel=[x for x in filters.channels if x != c.pk]))
                for c in channels
            ],
            "assignee_value": _assignee_value(filters),
            "page_size": PAGE_SIZE,
        }
        return render(
            request, "requests/board.html", context, status=error.status if error else 200
        )


def _assignee_value(filters: RequestFilterSet) -> str:
    """The value the single assignee select shows for the filters in the URL."""
    values = filters.as_query().get("assignee", [])
    return values[0] if len(values) == 1 else ""


class RequestColumnView(HtmxLoginRequiredMixin):
    """The next page of one column's cards, as HTML to append to the column."""

    def get(self, request: HttpRequest, status: str) -> HttpResponse:
        if status not in RequestStatus.values:
            raise Http404(f"{status!r} is not a request state.")
        filters, error = _filters(request)
        if error is not None:
            raise error  # the web kit answers it, as any error the view lets through
        items, cursor = selectors.board_column(
            filters, status, limit=PAGE_SIZE, after=request.GET.get("after", "")
        )
        context = {"items": items, "more_url": _more_url(filters, status, cursor)}
        return render(request, "requests/board.html#cards", context)


class RequestMoveView(HtmxLoginRequiredMixin):
    """Move a request to another state from the board; answers JSON for the board's script."""

    def handle_no_permission(self) -> HttpResponse:  # type: ignore[override]
        return JsonResponse({"error": "Your session has ended; log in again."}, status=401)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        status = request.POST.get("status", "")
        if request.content_type == "application/json":
            try:
                body = json.loads(request.body or b"{}")
                status = str(body.get("status", "")) if isinstance(body, dict) else ""
            except ValueError:
                return JsonResponse({"error": "The request body is not valid JSON."}, status=400)
        try:
            item = selectors.request_get(pk)
            item = request_status_set(
                request=item, status=status, actor=actor_get(request), via="board"
            )
        except ServiceError as exc:
            return JsonResponse({"error": exc.message}, status=exc.status)
        return JsonResponse(
            {"id": item.pk, "status": item.status, "label": item.get_status_display()}
        )


class RequestPickView(HtmxLoginRequiredMixin):
    """Accounts or channels matching a search, as links that add them to the board's filters."""

    def get(self, request: HttpRequest) -> HttpResponse:
        kind = request.GET.get("kind", "account")
        q = request.GET.get("pick_q", "")
        filters, _ = _filters(request)
        options: list[tuple[Any, str]] = []
        if kind == "channel":
            for channel in selectors.channel_search(q):
                ids = [*filters.channels, channel.pk]
                options.append((f"#{channel.name}", _board_url(filters, channel=ids)))
        else:
            for account in account_search(q):
                ids = [*filters.accounts, account.pk]
                options.append((account.name, _board_url(filters, account=ids)))
        return render(request, "requests/pick.html", {"options": options, "q": q})


class RequestQueueView(HtmxLoginRequiredMixin):
    """My queue: the requests assigned to the member, not closed, oldest first."""

    def get(self, request: HttpRequest) -> HttpResponse:
        page = selectors.queue_for(actor_get(request), limit=QUEUE_SIZE)
        return render(request, "requests/mine.html", {"page": page})

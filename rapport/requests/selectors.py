"""Reads for the request board, the queue, a request's page, the settings and the API.

Every function here issues a fixed number of queries, whatever the page size. The board
reads one GROUP BY for its column counts and one LIMIT query per column, each walking
the index that matches the filter in the board's order: newest first, by
(created_at, id), paginated by keyset so a deep column costs what its first page does.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from rapport.core.errors import InvalidInput, NotFound
from rapport.core.pagination import Page, keyset_cursor_decode, keyset_cursor_encode
from rapport.inbox.models import Channel, Message
from rapport.requests.filters import RequestFilterSet
from rapport.requests.models import ActivityKind, Request, RequestActivity, RequestStatus
from rapport.users.models import User

# The board's columns, left to right.
BOARD_COLUMNS = (
    RequestStatus.OPEN,
    RequestStatus.WAITING,
    RequestStatus.PENDING,
    RequestStatus.CLOSED,
)
CHOICES_SHOWN = 10
# What a card shows; the rest of each row stays in the database.
CARD_FIELDS = (
    "id",
    "title",
    "status",
    "source",
    "created_at",
    "requester_name",
    "requester_email",
    "first_response_at",
    "first_response_due_at",
    "resolution_due_at",
    "closed_at",
    "ticket_sent_at",
    "account_id",
    "assignee_id",
    "channel_id",
    "account__id",
    "account__name",
    "assignee__id",
    "assignee__name",
    "assignee__email",
    "channel__id",
    "channel__name",
)
# What the API shows of each request in a list, on top of a card.
API_FIELDS = (
    *CARD_FIELDS,
    "requester",
    "ticket_address",
    "ticket_reference",
    "csat_requested_at",
    "csat_score",
    "csat_comment",
    "csat_at",
)


# What a board card shows, read as plain values: a model instance (and one per joined
# row) per card costs more than the queries do.
CARD_VALUES = (
    "id",
    "title",
    "status",
    "source",
    "created_at",
    "requester_name",
    "requester_email",
    "first_response_at",
    "first_response_due_at",
    "resolution_due_at",
    "account__name",
    "assignee__name",
    "assignee__email",
    "channel__name",
)


@dataclass(slots=True)
class Card:
    """One request on the board, with the names of its account, assignee and channel."""

    pk: int
    title: str
    status: str
    source: str
    created_at: datetime.datetime
    requester_name: str
    requester_email: str
    first_response_at: datetime.datetime | None
    first_response_due_at: datetime.datetime | None
    resolution_due_at: datetime.datetime | None
    account_name: str | None
    assignee_name: str | None
    assignee_email: str | None
    channel_name: str | None

    @property
    def assignee_display(self) -> str:
        return self.assignee_name or self.assignee_email or ""

    def get_absolute_url(self) -> str:
        return reverse("requests:detail", args=[self.pk])


@dataclass
class BoardColumn:
    """One state's column: how many requests are in it, and the page of cards shown."""

    status: str
    label: str
    count: int
    items: list[Card]
    next_cursor: str = ""
    more_url: str = ""

    @property
    def has_more(self) -> bool:
        return bool(self.next_cursor)


@dataclass
class Board:
    columns: list[BoardColumn]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.columns)


# --- the board ---------------------------------------------------------------------------


def card_queryset() -> QuerySet[Request]:
    """Return requests with what a card shows: account, assignee and channel names."""
    return Request.objects.select_related("account", "assignee", "channel").only(*CARD_FIELDS)


def board_counts(filters: RequestFilterSet) -> dict[str, int]:
    """Count the requests of each state that match *filters*, in one GROUP BY.

    COUNT(*) rather than COUNT(id): SQLite then only counts index entries, three times
    faster over 100,000 requests.
    """
    rows = (
        filters.filter(Request.objects.all(), status=False)
        .order_by()
        .values_list("status")
        .annotate(n=Count("*"))
    )
    return dict(rows)


def board_column(
    filters: RequestFilterSet, status: str, *, limit: int, after: str = ""
) -> tuple[list[Card], str]:
    """Return one page of a column's cards, newest first, and the cursor of the next page."""
    if status not in RequestStatus.values:
        raise InvalidInput(f"{status!r} is not a request state.", field="status")
    queryset = filters.filter(Request.objects.all(), status=False)
    # With an account, assignee, channel or source picked, the index that starts with it
    # (request_account_idx, ...) holds the column's rows in the board's order.
    queryset = queryset.filter(status=status)
    if after:
        at, pk = keyset_cursor_decode(after)
        # created_at <= at bounds the index range; the exclusion drops the ties already shown.
        queryset = queryset.filter(created_at__lte=at).exclude(created_at=at, id__gte=pk)
    page = queryset.order_by("-created_at", "-id").values_list(*CARD_VALUES)[: limit + 1]
    rows = [Card(*row) for row in page]
    if len(rows) > limit:
        last = rows[limit - 1]
        return rows[:limit], keyset_cursor_encode(last.created_at, last.pk)
    return rows, ""


def board_get(filters: RequestFilterSet, *, limit: int) -> Board:
    """Return every column of the board: its count and its first page of cards."""
    counts = board_counts(filters)
    labels = dict(RequestStatus.choices)
    columns = []
    for status in BOARD_COLUMNS:
        count = counts.get(status, 0)
        items, cursor = board_column(filters, status, limit=limit) if count else ([], "")
        columns.append(BoardColumn(status, labels[status], count, items, cursor))
    return Board(columns)


def member_active_get(member_id: int | None) -> User | None:
    """Return the active member with *member_id* (None for nobody), or raise InvalidInput."""
    if member_id is None:
        return None
    member = User.objects.filter(pk=member_id, is_active=True).first()
    if member is None:
        raise InvalidInput(f"No active member with id {member_id}.", field="assignee_id")
    return member


def channels_by_ids(ids: list[int]) -> list[Channel]:
    if not ids:
        return []
    return list(Channel.objects.filter(pk__in=ids).only("id", "name").order_by("name", "id"))


def channel_search(q: str, *, limit: int = CHOICES_SHOWN) -> list[Channel]:
    """Return the first channels, by name, whose name contains every word of *q*."""
    words = " ".join((q or "").split()).lower()[:200].lstrip("#").split()
    if not words:
        return []
    channels = Channel.objects.only("id", "name")
    for word in words:
        channels = channels.filter(name__icontains=word)
    return list(channels.order_by("name", "id")[:limit])


# --- lists -------------------------------------------------------------------------------


def request_page(filters: RequestFilterSet, *, limit: int, offset: int) -> Page:
    """Return one page of requests matching *filters*, newest first, with the total."""
    queryset = filters.filter(card_queryset().only(*API_FIELDS))
    count = queryset.count()
    items = list(queryset.order_by("-created_at", "-id")[offset : offset + limit])
    return Page(items=items, count=count, limit=limit, offset=offset)


def queue_for(user: User, *, limit: int) -> Page:
    """Return the requests assigned to *user* that are not closed, oldest first."""
    queryset = card_queryset().filter(assignee=user).exclude(status=RequestStatus.CLOSED)
    count = queryset.count()
    items = list(queryset.order_by("created_at", "id")[:limit])
    return Page(items=items, count=count, limit=limit)


# --- one request -------------------------------------------------------------------------


def request_get(request_id: int) -> Request:
    """Return one request with its channel (for the services), or raise NotFound."""
    request = Request.objects.select_related("channel", "assignee").filter(pk=request_id).first()
    if request is None:
        raise NotFound(f"No request with id {request_id}.")
    return request


def request_detail(request_id: int) -> Request:
    """Return one request with everything its page and the API show, or raise NotFound."""
    request = (
        Request.objects.select_related(
            "account",
            "assignee",
            "channel",
            "conversation",
            "requester",
            "closed_by",
            "first_responder",
        )
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise NotFound(f"No request with id {request_id}.")
    return request


def request_thread(request: Request) -> list[Message]:
    """Return the request's messages: its conversation's and those grouped into it."""
    return list(
        Message.objects.filter(
            Q(conversation_id=request.conversation_id) | Q(request_link__request_id=request.pk)
        )
        .select_related("author_user", "request_link")
        .order_by("sent_at", "id")
    )


def request_timeline(request: Request) -> tuple[list[RequestActivity], dict[int, User]]:
    """Return the request's activities, oldest first, and the members they name by id."""
    activities = list(request.activities.select_related("actor").order_by("at", "id"))
    ids: set[int] = set()
    for activity in activities:
        if activity.kind != ActivityKind.ASSIGNED:
            continue
        for key in ("from", "to"):
            value = activity.data.get(key)
            if isinstance(value, int):
                ids.add(value)
    users = User.objects.in_bulk(list(ids)) if ids else {}
    return activities, users


# --- settings ----------------------------------------------------------------------------


def channel_settings_page(*, q: str, limit: int, offset: int) -> Page:
    """Return one page of channels, by name, with their request setting overrides."""
    channels = Channel.objects.select_related("request_settings").order_by("name", "id")
    for word in q.lower().lstrip("#").split():
        channels = channels.filter(name__icontains=word)
    count = channels.count()
    return Page(
        items=list(channels[offset : offset + limit]), count=count, limit=limit, offset=offset
    )


def channel_with_settings_get(channel_id: int) -> Channel:
    channel = Channel.objects.select_related("request_settings").filter(pk=channel_id).first()
    if channel is None:
        raise NotFound(f"No Slack channel with id {channel_id}.")
    return channel

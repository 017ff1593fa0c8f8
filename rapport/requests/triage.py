"""Turn new messages into requests, group follow-ups, and credit team replies.

Ingest queues each new message (`messages_queue`, in the transaction that stores it);
`triage_pending` then takes queued messages in the order they were sent:

- A customer message in a thread with an open request joins it (and a request waiting
  on the customer opens again).
- A customer message that follows the same customer's request in the same channel
  within the grouping window joins that request (conversation grouping).
- Otherwise the detector decides whether it is a request; API tickets always are.
- A team reply in a request's thread is its first response and, when the automation is
  on, assigns an unassigned request to whoever replied. A team message posted in the
  channel itself does the same for the channel's last open request, unless that one
  is already assigned.

Triage runs one batch at a time (an advisory lock on PostgreSQL; SQLite's write lock
does the same), because grouping and "the last open request" depend on order.
"""

import datetime
import logging
from collections.abc import Sequence
from itertools import batched

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from rapport.inbox.adapters import source_adapter
from rapport.inbox.models import Message, MessageDirection
from rapport.requests.config import RequestConfig, RequestConfigCache
from rapport.requests.models import (
    PendingTriage,
    Request,
    RequestMessage,
    RequestOrigin,
    RequestStatus,
)
from rapport.requests.services import (
    request_create,
    request_message_add,
    request_status_set,
    request_team_reply,
)

logger = logging.getLogger(__name__)
# A batch holds the write lock; 200 new requests take about half a second on SQLite.
TRIAGE_BATCH = 200
RECOVER_AFTER_SECONDS = 60
_TRIAGE_LOCK = 0x52505452  # "RPTR": one triage batch at a time on PostgreSQL


def messages_queue(messages: Sequence[Message]) -> None:
    """Queue *messages* for triage in the current transaction; triage once it commits."""
    PendingTriage.objects.bulk_create(
        [PendingTriage(message_id=message.pk) for message in messages], ignore_conflicts=True
    )
    transaction.on_commit(_enqueue)


def _enqueue() -> None:
    from rapport.ops.queue import task_enqueue_coalesced
    from rapport.requests.tasks import requests_triage

    task_enqueue_coalesced(requests_triage)


def triage_pending(limit: int = TRIAGE_BATCH, *, batches: int | None = None) -> int:
    """Triage queued messages, oldest first; return how many.

    Without *batches*, until none is left (tests, the demo). The task runs one batch
    and enqueues itself again when more wait: a loop of write transactions would starve
    every other writer of SQLite's lock, webhooks included.
    """
    done = 0
    runs = 0
    while True:
        count = _triage_batch(limit)
        done += count
        runs += 1
        if count < limit:
            return done
        if batches is not None and runs >= batches:
            transaction.on_commit(_enqueue)
            return done


def triage_recover() -> int:
    """Enqueue triage when messages wait longer than a live worker would leave them."""
    cutoff = timezone.now() - datetime.timedelta(seconds=RECOVER_AFTER_SECONDS)
    waiting = PendingTriage.objects.filter(queued_at__lt=cutoff).count()
    if waiting:
        _enqueue()
    return waiting


def _triage_batch(limit: int) -> int:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TRIAGE_LOCK])
        rows = list(
            PendingTriage.objects.select_related(
                "message__conversation__channel__csm",
                "message__conversation__account",
                "message__conversation__requester",
                "message__author_user",
            ).order_by("message__sent_at", "message_id")[:limit]
        )
        if not rows:
            return 0
        state = TriageState([row.message for row in rows])
        for row in rows:
            message_triage(row.message, state=state)
        PendingTriage.objects.filter(pk__in=[row.pk for row in rows]).delete()
        return len(rows)


class TriageState:
    """What a batch of triage reads once: settings, SLA policies, each thread's request.

    `open_requests` maps a conversation to its latest request that is not closed, as
    (id, status); triage keeps it current as it creates, groups and reopens requests.
    """

    def __init__(self, messages: Sequence[Message]) -> None:
        self.configs = RequestConfigCache()
        self.open_requests: dict[int, tuple[int, str]] = {}
        conversation_ids = sorted({message.conversation_id for message in messages})
        for chunk in batched(conversation_ids, 500):
            links = (
                RequestMessage.objects.filter(message__conversation_id__in=chunk)
                .exclude(request__status=RequestStatus.CLOSED)
                .order_by("request__created_at", "request_id")
                .values_list("message__conversation_id", "request_id", "request__status")
            )
            for conversation_id, request_id, status in links:
                self.open_requests[conversation_id] = (request_id, status)  # the latest wins

    def remember(self, message: Message, request: Request) -> None:
        self.open_requests[message.conversation_id] = (request.pk, request.status)


def message_triage(message: Message, *, state: TriageState | None = None) -> int | None:
    """Act on one new message; return the id of the request it belongs to, if any."""
    if message.deleted_at is not None:
        return None
    state = state or TriageState([message])
    config = state.configs.for_channel(message.conversation.channel_id)
    if message.direction == MessageDirection.OUTBOUND:
        return _team_message(message, config, state)
    return _customer_message(message, config, state)


def _request_load(request_id: int) -> Request:
    return Request.objects.select_related("assignee", "channel", "conversation", "message").get(
        pk=request_id
    )


def _customer_message(message: Message, config: RequestConfig, state: TriageState) -> int | None:
    found = state.open_requests.get(message.conversation_id)
    if found is not None:
        request_id, status = found
        request_message_add(request_id=request_id, message=message)
        if status == RequestStatus.WAITING:
            request = _request_load(request_id)
            request_status_set(
                request=request,
                status=RequestStatus.OPEN,
                actor=None,
                via="customer",
                config=config,
            )
            state.remember(message, request)
        return request_id
    grouped = _group_candidate(message, config)
    if grouped is not None:
        state.remember(message, grouped)
        request_message_add(request_id=grouped.pk, message=message, grouped=True)
        return grouped.pk
    channel = source_adapter(message.source)
    if channel.threads_are_requests and _is_thread_root(message):
        # A ticket filed through the API is a request by definition.
        return _create(message, RequestOrigin.TICKET, config, state).pk
    if not config.detection_enabled:
        return None
    text = message.text
    if channel.subject_tells_request and message.conversation.subject:
        text = f"{message.conversation.subject}\n{text}"
    from rapport.detection.model import detect

    detection = detect(text, config.detection_mode)
    if not detection.is_request:
        return None
    return _create(message, RequestOrigin.DETECTED, config, state, score=detection.score).pk


def _create(
    message: Message,
    origin: str,
    config: RequestConfig,
    state: TriageState,
    *,
    score: float | None = None,
) -> Request:
    request = request_create(
        message=message,
        origin=origin,
        config=config,
        score=score,
        sla_policies=state.configs.sla_policies,
    )
    state.remember(message, request)
    return request


def _group_candidate(message: Message, config: RequestConfig) -> Request | None:
    """Return the request *message* follows up, by the same customer in the same channel."""
    window = config.grouping_window_seconds
    channel_id = message.conversation.channel_id
    if not window or channel_id is None:
        return None
    same_author = (
        Q(requester_external_id=message.author_external_id)
        if message.author_external_id
        else Q(requester_email=message.author_email)
    )
    if not (message.author_external_id or message.author_email):
        return None
    since = message.sent_at - datetime.timedelta(seconds=window)
    return (
        Request.objects.filter(
            same_author,
            channel_id=channel_id,
            last_customer_message_at__gte=since,
            last_customer_message_at__lte=message.sent_at,
        )
        .exclude(status=RequestStatus.CLOSED)
        .order_by("-last_customer_message_at", "-id")
        .first()
    )


def _is_thread_root(message: Message) -> bool:
    return not Message.objects.filter(
        Q(sent_at__lt=message.sent_at) | Q(sent_at=message.sent_at, pk__lt=message.pk),
        conversation_id=message.conversation_id,
    ).exists()


def _team_message(message: Message, config: RequestConfig, state: TriageState) -> int | None:
    found = state.open_requests.get(message.conversation_id)
    request = _request_load(found[0]) if found is not None else None
    in_thread = request is not None
    if request is None:
        if message.conversation.channel_id is None or not _is_thread_root(message):
            return None
        # Posted in the channel, not in a thread: it answers the channel's last open request.
        request = (
            Request.objects.filter(
                channel_id=message.conversation.channel_id, status=RequestStatus.OPEN
            )
            .select_related("assignee", "channel", "conversation", "message")
            .order_by("-created_at", "-id")
            .first()
        )
        if request is None or request.created_at > message.sent_at:
            return None
    request_team_reply(request=request, message=message, in_thread=in_thread, config=config)
    return request.pk

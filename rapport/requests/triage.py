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

A batch is planned before anything is written: one read of the pending messages, of
their threads' open requests and of the requests they may be grouped with, then the
detector and the new requests' SLA targets, all outside any transaction. The plan is
then written in chunks of a few dozen messages, each chunk in a short transaction that
also deletes those messages' pending rows, so SQLite's write lock is held for
milliseconds at a time and a worker that dies loses nothing and does nothing twice.
Team replies and reopenings are written from the requests as they are in that
transaction. A chunk whose messages or requests changed since the plan (another writer
got there first) is rolled back, and what is left is planned again.

Triage runs one batch at a time (`rapport.core.turns`), because grouping and "the last
open request" depend on order.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import batched

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from rapport.accounts.models import Contact
from rapport.core.turns import job_turn
from rapport.inbox.adapters import source_adapter
from rapport.inbox.models import Message, MessageDirection
from rapport.ops.queue import on_commit_once
from rapport.requests.config import RequestConfig, RequestConfigCache
from rapport.requests.models import (
    PendingTriage,
    Request,
    RequestMessage,
    RequestOrigin,
    RequestStatus,
)
from rapport.requests.services import (
    RequestDraft,
    request_build,
    request_requester,
    request_status_set,
    request_team_reply,
    requests_create_many,
    requests_messages_add,
)

logger = logging.getLogger(__name__)
# Messages planned at once: one read of each kind per batch.
TRIAGE_BATCH = 200
# The work written per transaction, in messages: a chunk of 20 new requests holds the
# write lock for about 10 ms of CPU (twice that while the web processes compete for the
# cores), so a web request that writes waits about that long for triage at most. A team
# reply or a reopening counts as five: each reads its request and goes through the
# services one request at a time.
TRIAGE_CHUNK = 20
_SERVICE_STEP_WEIGHT = 5
RECOVER_AFTER_SECONDS = 60
_TRIAGE_LOCK = 0x52505452  # "RPTR": one triage batch at a time on PostgreSQL


def messages_queue(messages: Sequence[Message]) -> None:
    """Queue *messages* for triage in the current transaction; triage once it commits."""
    PendingTriage.objects.bulk_create(
        [PendingTriage(message_id=message.pk) for message in messages], ignore_conflicts=True
    )
    on_commit_once(_enqueue)


def _enqueue() -> None:
    from rapport.ops.queue import task_enqueue_coalesced
    from rapport.requests.tasks import requests_triage

    task_enqueue_coalesced(requests_triage)


def triage_pending(limit: int = TRIAGE_BATCH, *, batches: int | None = None) -> int:
    """Triage queued messages, oldest first; return how many.

    Without *batches*, until none is left (tests, the demo). The task runs one batch
    and enqueues itself again when more wait, so that other tasks get their turn.
    """
    done = 0
    runs = 0
    with job_turn("triage", _TRIAGE_LOCK):
        while True:
            count, more = _triage_batch(limit)
            done += count
            runs += 1
            if not more:
                return done
            if batches is not None and runs >= batches:
                on_commit_once(_enqueue)
                return done


def triage_recover() -> int:
    """Enqueue triage when messages wait longer than a live worker would leave them."""
    cutoff = timezone.now() - datetime.timedelta(seconds=RECOVER_AFTER_SECONDS)
    waiting = PendingTriage.objects.filter(queued_at__lt=cutoff).count()
    if waiting:
        _enqueue()
    return waiting


def _triage_batch(limit: int) -> tuple[int, bool]:
    """Plan up to *limit* queued messages, then write the plan chunk by chunk.

    Return how many were triaged, and whether more may wait.
    """
    earlier = Message.objects.filter(
        Q(sent_at__lt=OuterRef("message__sent_at"))
        | Q(sent_at=OuterRef("message__sent_at"), pk__lt=OuterRef("message_id")),
        conversation_id=OuterRef("message__conversation_id"),
    )
    rows = list(
        PendingTriage.objects.select_related(
            "message__conversation__channel__csm",
            "message__conversation__account",
            "message__conversation__requester",
            "message__author_user",
        )
        .annotate(follows=Exists(earlier))
        .order_by("message__sent_at", "message_id")[:limit]
    )
    if not rows:
        return 0, False
    plan = TriagePlan(rows)
    done = 0
    for chunk in plan.chunks(TRIAGE_CHUNK):
        try:
            with transaction.atomic():
                _chunk_write(chunk)
        except StalePlan as exc:
            logger.info("Triage plans %d messages again: %s", len(rows) - done, exc)
            return done, True
        done += len(chunk)
    return done, len(rows) == limit


class StalePlan(Exception):
    """What a chunk was planned on changed before it was written; plan it again."""


# --- the plan -----------------------------------------------------------------------------


class TrackedRequest:
    """A request as the batch leaves it: a thread's open request, or a grouping candidate.

    A new request is tracked by its draft; it has an id once its chunk is written.
    """

    __slots__ = (
        "_pk",
        "channel_id",
        "draft",
        "email",
        "external_id",
        "last_customer_message_at",
        "rank",
        "status",
    )

    def __init__(
        self,
        *,
        pk: int | None,
        draft: RequestDraft | None,
        status: str,
        channel_id: int | None,
        external_id: str,
        email: str,
        last_customer_message_at: datetime.datetime,
        rank: tuple[int, int],
    ) -> None:
        self._pk = pk
        self.draft = draft
        self.status = status
        self.channel_id = channel_id
        self.external_id = external_id
        self.email = email
        self.last_customer_message_at = last_customer_message_at
        # Newest last: existing requests by id, then new ones in the order they open.
        self.rank = rank

    @property
    def pk(self) -> int:
        pk = self._pk if self.draft is None else self.draft.request.pk
        assert pk is not None, "A new request is written before anything refers to it."
        return pk


@dataclass(frozen=True)
class Create:
    draft: RequestDraft


@dataclass(frozen=True)
class Join:
    message: Message
    request: TrackedRequest
    grouped: bool


@dataclass(frozen=True)
class Reopen:
    """A customer answered a request waiting on them."""

    request: TrackedRequest
    config: RequestConfig


@dataclass(frozen=True)
class TeamReply:
    """A team message: in *request*'s thread, or (None) a post in the channel itself."""

    message: Message
    request: TrackedRequest | None
    config: RequestConfig


Step = Create | Join | Reopen | TeamReply


class TriagePlan:
    """What triage does with a batch of messages, decided before any of it is written.

    `steps` holds, per message in order, its pending row's id and what to write. The
    plan keeps each thread's open request and each grouping candidate as the batch
    leaves them, so later messages are decided as if the earlier ones were written.
    """

    def __init__(self, rows: Sequence[PendingTriage]) -> None:
        messages = [row.message for row in rows]
        self.configs = RequestConfigCache()
        self.configs.preload({message.conversation.channel_id for message in messages})
        self._requests: dict[int, TrackedRequest] = {}
        self._by_channel: dict[int, list[TrackedRequest]] = defaultdict(list)
        self._new = 0
        # Each conversation's latest request that is not closed.
        self.open_requests: dict[int, TrackedRequest] = {}
        self._read_open_requests(messages)
        self._read_candidates(messages)
        self._contacts = self._read_contacts(messages)
        self.steps: list[tuple[int, list[Step]]] = [
            (row.pk, self._plan(row.message, is_root=not getattr(row, "follows", True)))
            for row in rows
        ]

    def chunks(self, size: int) -> Iterator[list[tuple[int, list[Step]]]]:
        """Yield the steps in chunks of about *size* messages' worth of writing each."""
        chunk: list[tuple[int, list[Step]]] = []
        weight = 0
        for pending, steps in self.steps:
            cost = max(
                1, sum(1 if isinstance(s, Create | Join) else _SERVICE_STEP_WEIGHT for s in steps)
            )
            if chunk and weight + cost > size:
                yield chunk
                chunk, weight = [], 0
            chunk.append((pending, steps))
            weight += cost
        if chunk:
            yield chunk

    # Reads, once per batch.

    _FIELDS = (
        "request_id",
        "request__status",
        "request__channel_id",
        "request__requester_external_id",
        "request__requester_email",
        "request__last_customer_message_at",
    )

    def _track(self, row: Sequence[object]) -> TrackedRequest:
        pk, status, channel_id, external_id, email, last_at = row
        assert isinstance(pk, int)
        tracked = self._requests.get(pk)
        if tracked is None:
            tracked = self._requests[pk] = TrackedRequest(
                pk=pk,
                draft=None,
                status=str(status),
                channel_id=channel_id if isinstance(channel_id, int) else None,
                external_id=str(external_id),
                email=str(email),
                last_customer_message_at=last_at,  # type: ignore[arg-type]
                rank=(0, pk),
            )
            if tracked.channel_id is not None:
                self._by_channel[tracked.channel_id].append(tracked)
        return tracked

    def _read_open_requests(self, messages: Sequence[Message]) -> None:
        conversation_ids = sorted({message.conversation_id for message in messages})
        for chunk in batched(conversation_ids, 500):
            links = (
                RequestMessage.objects.filter(message__conversation_id__in=chunk)
                .exclude(request__status=RequestStatus.CLOSED)
                .order_by("request__created_at", "request_id")
                .values_list("message__conversation_id", *self._FIELDS)
            )
            for conversation_id, *row in links:
                self.open_requests[conversation_id] = self._track(row)  # the latest wins

    def _read_candidates(self, messages: Sequence[Message]) -> None:
        """Read the requests that customer messages of the batch may be grouped with."""
        channel_ids: set[int] = set()
        external_ids: set[str] = set()
        emails: set[str] = set()
        since: datetime.datetime | None = None
        until: datetime.datetime | None = None
        for message in messages:
            channel_id = message.conversation.channel_id
            if message.direction == MessageDirection.OUTBOUND or channel_id is None:
                continue
            window = self.configs.for_channel(channel_id).grouping_window_seconds
            if not window:
                continue
            if message.author_external_id:
                external_ids.add(message.author_external_id)
            elif message.author_email:
                emails.add(message.author_email)
            else:
                continue
            channel_ids.add(channel_id)
            start = message.sent_at - datetime.timedelta(seconds=window)
            since = start if since is None else min(since, start)
            until = message.sent_at if until is None else max(until, message.sent_at)
        if not channel_ids:
            return
        same_author = Q(requester_external_id__in=sorted(external_ids)) | Q(
            requester_email__in=sorted(emails)
        )
        candidates = (
            Request.objects.filter(
                same_author,
                channel_id__in=sorted(channel_ids),
                last_customer_message_at__gte=since,
                last_customer_message_at__lte=until,
            )
            .exclude(status=RequestStatus.CLOSED)
            .values_list("id", *(name.removeprefix("request__") for name in self._FIELDS[1:]))
        )
        for row in candidates:
            self._track(row)

    def _read_contacts(self, messages: Sequence[Message]) -> dict[str, Contact | None]:
        """Read the contacts of authors who are not their conversation's requester."""
        emails = {
            message.author_email.lower()
            for message in messages
            if message.author_email and message.author_email != message.conversation.requester_email
        }
        if not emails:
            return {}
        return {contact.email: contact for contact in Contact.objects.filter(email__in=emails)}

    # Decisions, in the order the messages were sent.

    def _plan(self, message: Message, *, is_root: bool) -> list[Step]:
        if message.deleted_at is not None:
            return []
        config = self.configs.for_channel(message.conversation.channel_id)
        if message.direction == MessageDirection.OUTBOUND:
            return self._team_message(message, config, is_root=is_root)
        return self._customer_message(message, config, is_root=is_root)

    def _customer_message(
        self, message: Message, config: RequestConfig, *, is_root: bool
    ) -> list[Step]:
        found = self.open_requests.get(message.conversation_id)
        if found is not None:
            steps: list[Step] = [Join(message, found, grouped=False)]
            self._joined(found, message)
            if found.status == RequestStatus.WAITING:
                steps.append(Reopen(found, config))
                found.status = RequestStatus.OPEN
            return steps
        grouped = self._group_candidate(message, config)
        if grouped is not None:
            self.open_requests[message.conversation_id] = grouped
            self._joined(grouped, message)
            return [Join(message, grouped, grouped=True)]
        channel = source_adapter(message.source)
        if channel.threads_are_requests and is_root:
            # A ticket filed through the API is a request by definition.
            return [self._create(message, RequestOrigin.TICKET, config)]
        if not config.detection_enabled:
            return []
        text = message.text
        if channel.subject_tells_request and message.conversation.subject:
            text = f"{message.conversation.subject}\n{text}"
        from rapport.detection.model import detect

        detection = detect(text, config.detection_mode)
        if not detection.is_request:
            return []
        return [self._create(message, RequestOrigin.DETECTED, config, score=detection.score)]

    def _joined(self, request: TrackedRequest, message: Message) -> None:
        request.last_customer_message_at = max(request.last_customer_message_at, message.sent_at)

    def _create(
        self, message: Message, origin: str, config: RequestConfig, *, score: float | None = None
    ) -> Create:
        draft = request_build(
            message=message,
            origin=origin,
            config=config,
            score=score,
            requester=request_requester(message, self._contacts),
            sla_policies=self.configs.sla_policies,
        )
        self._new += 1
        tracked = TrackedRequest(
            pk=None,
            draft=draft,
            status=RequestStatus.OPEN,
            channel_id=message.conversation.channel_id,
            external_id=message.author_external_id,
            email=message.author_email,
            last_customer_message_at=message.sent_at,
            rank=(1, self._new),
        )
        if tracked.channel_id is not None:
            self._by_channel[tracked.channel_id].append(tracked)
        self.open_requests[message.conversation_id] = tracked
        return Create(draft)

    def _group_candidate(self, message: Message, config: RequestConfig) -> TrackedRequest | None:
        """Return the request *message* follows up, by the same customer in the same channel."""
        window = config.grouping_window_seconds
        channel_id = message.conversation.channel_id
        if not window or channel_id is None:
            return None
        if not (message.author_external_id or message.author_email):
            return None
        since = message.sent_at - datetime.timedelta(seconds=window)
        best: TrackedRequest | None = None
        for request in self._by_channel.get(channel_id, ()):
            if message.author_external_id:
                if request.external_id != message.author_external_id:
                    continue
            elif request.email != message.author_email:
                continue
            if request.status == RequestStatus.CLOSED:
                continue
            if not since <= request.last_customer_message_at <= message.sent_at:
                continue
            if best is None or (request.last_customer_message_at, request.rank) > (
                best.last_customer_message_at,
                best.rank,
            ):
                best = request
        return best

    def _team_message(
        self, message: Message, config: RequestConfig, *, is_root: bool
    ) -> list[Step]:
        found = self.open_requests.get(message.conversation_id)
        if found is None and (message.conversation.channel_id is None or not is_root):
            return []
        return [TeamReply(message, found, config)]


# --- writing ------------------------------------------------------------------------------


def _chunk_write(chunk: Sequence[tuple[int, list[Step]]]) -> None:
    """Write a chunk of the plan and delete its pending rows, in the caller's transaction.

    New requests and joined messages are written in bulk; a team reply or a reopening
    reads its request first, so the ones before it are written before it runs.
    """
    pending = [pk for pk, _ in chunk]
    deleted, _ = PendingTriage.objects.filter(pk__in=pending).delete()
    if deleted != len(pending):
        raise StalePlan("another run triaged some of these messages")
    creates: list[RequestDraft] = []
    joins: list[Join] = []

    def flush() -> None:
        requests_create_many(creates)
        requests_messages_add([(join.request.pk, join.message, join.grouped) for join in joins])
        creates.clear()
        joins.clear()

    for _, steps in chunk:
        for step in steps:
            if isinstance(step, Create):
                creates.append(step.draft)
            elif isinstance(step, Join):
                joins.append(step)
            else:
                flush()
                if isinstance(step, Reopen):
                    _reopen(step)
                else:
                    _team_reply(step)
    flush()


def _request_load(request_id: int) -> Request | None:
    return (
        Request.objects.select_related("assignee", "channel", "conversation", "message")
        .filter(pk=request_id)
        .first()
    )


def _reopen(step: Reopen) -> None:
    request = _request_load(step.request.pk)
    if request is None or request.status != RequestStatus.WAITING:
        raise StalePlan(f"request {step.request.pk} is no longer waiting on the customer")
    request_status_set(
        request=request, status=RequestStatus.OPEN, actor=None, via="customer", config=step.config
    )


def _team_reply(step: TeamReply) -> None:
    message = step.message
    if step.request is not None:
        request = _request_load(step.request.pk)
        if request is None:
            raise StalePlan(f"request {step.request.pk} is gone")
        in_thread = True
    else:
        # Posted in the channel, not in a thread: it answers the channel's last open request.
        channel_id = message.conversation.channel_id
        assert channel_id is not None, "The plan only keeps channel posts."
        request = (
            Request.objects.filter(channel_id=channel_id, status=RequestStatus.OPEN)
            .select_related("assignee", "channel", "conversation", "message")
            .order_by("-created_at", "-id")
            .first()
        )
        if request is None or request.created_at > message.sent_at:
            return
        in_thread = False
    request_team_reply(request=request, message=message, in_thread=in_thread, config=step.config)

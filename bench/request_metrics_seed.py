"""Seed the request figures benchmark: requests spread over the directory's accounts.

The requests come from the benchmark database when it holds enough already; otherwise
the request board benchmark's seed runs (when it has not), then requests and their
conversations are inserted in bulk up to the count asked for, spread over the accounts
with a long tail (a few accounts with thousands of requests, most with none).
`bench.request_metrics` measures them.
"""

import datetime
import random
from typing import Any

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from bench.database import progress

# The models load after django.setup(): `python -m bench.request_metrics` imports this
# module before Django is configured, so the project's imports live in the functions.

SEED = 20261122
STATUS_MIX = (("closed", 70), ("open", 18), ("waiting", 7), ("pending", 5))
SOURCE_MIX = (("slack", 60), ("email", 30), ("web_chat", 8), ("api", 2))


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def requests_seed(total: int, *, seed: int = SEED) -> int:
    """Insert requests (and their conversations) until the database holds *total*."""
    from bench.seed import CONTACTS_PER_ACCOUNT, _insert
    from rapport.accounts.models import Account
    from rapport.inbox.models import Conversation
    from rapport.requests.models import Request

    have = Request.objects.count()
    if have >= total:
        return 0
    if _board_seed():
        have = Request.objects.count()
        if have >= total:
            return 0
    account_ids = list(Account.objects.order_by("id").values_list("id", flat=True))
    if not account_ids:
        raise RuntimeError("Seed the accounts first (python -m bench).")
    rng = random.Random(seed)  # noqa: S311 - benchmark data, reproducible on purpose
    # A long tail: a fifth of the accounts ask at all, a few of them very often.
    askers = rng.sample(account_ids, max(1, len(account_ids) // 5))
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(askers))]
    wanted = total - have
    now = timezone.now()
    conversation_start = (
        Conversation.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    request_start = (Request.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    db = connection.ops.adapt_datetimefield_value
    conversations: list[tuple[Any, ...]] = []
    requests: list[tuple[Any, ...]] = []
    for n, account_id in enumerate(rng.choices(askers, weights=weights, k=wanted)):
        conversation_id = conversation_start + n
        source = _weighted(rng, SOURCE_MIX)
        created = now - datetime.timedelta(minutes=rng.randint(1, 365 * 24 * 60))
        person = rng.randint(0, CONTACTS_PER_ACCOUNT + 3)
        email = f"person{person}@account{account_id}.example"
        name = f"Person {person} of {account_id}"
        status = _weighted(rng, STATUS_MIX)
        # Nothing happens in the future: answers and closings are clamped to now.
        responded = min(now, created + datetime.timedelta(minutes=rng.randint(1, 600)))
        first_response = responded if status == "closed" or rng.random() < 0.6 else None
        closed = (
            min(now, created + datetime.timedelta(minutes=rng.randint(30, 14 * 24 * 60)))
            if status == "closed"
            else None
        )
        first_due = created + datetime.timedelta(hours=4)
        resolution_due = created + datetime.timedelta(days=3)
        rated = closed is not None and rng.random() < 0.4
        conversations.append(
            (
                conversation_id,
                source,
                f"bench-metrics:{conversation_id}",
                account_id,
                email,
                name,
                f"Question {conversation_id}",
                "",
                "",
                1,
                db(created),
                db(created),
            )
        )
        requests.append(
            (
                request_start + n,
                account_id,
                conversation_id,
                source,
                name,
                email,
                "",
                f"Question {conversation_id}",
                status,
                "detected",
                db(created),
                db(max(created, closed or first_response or created)),
                db(closed or first_response or created),
                db(created),
                db(first_response) if first_response else None,
                db(closed) if closed else None,
                "",
                "",
                "",
                "",
                "Standard",
                db(first_due),
                db(resolution_due),
                db(closed) if rated and closed else None,
                rng.choices((1, 2, 3, 4, 5), weights=(5, 5, 15, 35, 40))[0] if rated else None,
                "",
                db(closed) if rated and closed else None,
            )
        )
    with transaction.atomic():
        _insert(
            Conversation,
            (
                "id",
                "source",
                "thread_key",
                "account",
                "requester_email",
                "requester_name",
                "subject",
                "mapping_method",
                "mapping_outcome",
                "message_count",
                "created_at",
                "last_message_at",
            ),
            conversations,
        )
        _insert(
            Request,
            (
                "id",
                "account",
                "conversation",
                "source",
                "requester_name",
                "requester_email",
                "requester_external_id",
                "title",
                "status",
                "origin",
                "created_at",
                "updated_at",
                "last_activity_at",
                "last_customer_message_at",
                "first_response_at",
                "closed_at",
                "notification_channel",
                "notification_ts",
                "ticket_address",
                "ticket_reference",
                "sla_policy_name",
                "first_response_due_at",
                "resolution_due_at",
                "csat_requested_at",
                "csat_score",
                "csat_comment",
                "csat_at",
            ),
            requests,
        )
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Conversation, Request]):
                cursor.execute(sql)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE requests_request")
            cursor.execute("ANALYZE inbox_conversation")
    return wanted


def _board_seed() -> int:
    """Seed the request board benchmark's requests, when it exists and has not yet.

    Both benchmarks then measure the same requests; this one tops them up to its count.
    """
    try:
        from bench import requests_board
    except ImportError:  # pragma: no cover - the board benchmark is optional
        return 0
    if requests_board._marker_read() is not None:
        return 0
    progress("bench: seeding the request board's requests")
    return requests_board.requests_seed()

"""Benchmark the request board: its first page, unfiltered and filtered by assignee.

`bench_board(runs, warmup)` seeds 100,000 requests into the benchmark database once
(with their conversations, messages and links, over a few hundred accounts, Slack
channels and members; states mixed as on a live workspace), then measures
`GET /requests/` through Django's test client, logged in as a member, against a
bare-SQL baseline doing the same reads through a plain cursor: the session and its
user, one GROUP BY status for the column counts, one LIMIT query per column with the
card's joins (account, assignee, channel), and the members for the assignee filter.
The baseline is checked to return the cards the board shows.

Run alone with `python -m bench.requests_board` (JSON lines on stdout); BENCH_RUNS and
BENCH_WARMUP as for `make bench`. The seed has a marker of its own, so the directory's
seed (which drops the database when its own marker changes) and this one coexist; the
accounts and channels seeded here take ids far above the directory's.
"""

import datetime
import json
import os
import random
import sys
from collections.abc import Callable, Sequence
from itertools import batched
from typing import Any

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.test import Client
from django.utils import timezone

from bench.database import progress

REQUESTS = 100_000
ACCOUNTS = 300
CHANNELS = 200
MEMBERS = 30
SEED = 20261122
SEED_VERSION = 1
MARKER_TABLE = "bench_requests_seed"
# Far above the directory seed's ids (1..BENCH_ACCOUNTS), which it inserts as given.
ID_BASE = 90_000_000
VIEWER_EMAIL = "board-bench-member@example.com"
PAGE_URL = "/requests/"
# State mix of a year of requests: most are closed, a live backlog is open.
STATUS_MIX = (("closed", 72), ("open", 14), ("waiting", 7), ("pending", 7))
SOURCE_MIX = (("slack", 70), ("email", 20), ("web_chat", 5), ("api", 5))
TOPICS = (
    "CSV export fails with a 500 error",
    "Cannot log in with SSO",
    "Invoice total looks wrong",
    "How do I add a teammate?",
    "Webhook deliveries are delayed",
    "Dashboard shows no data since yesterday",
    "Need to change our billing contact",
    "API rate limit too low for our sync",
    "Report scheduling does not send emails",
    "Question about the renewal quote",
)


def _marker() -> str:
    return f"v{SEED_VERSION}:{REQUESTS}"


def _marker_read() -> str | None:
    with connection.cursor() as cursor:
        if MARKER_TABLE not in connection.introspection.table_names(cursor):
            return None
        cursor.execute(f"SELECT value FROM {MARKER_TABLE} WHERE name = 'seed'")
        row = cursor.fetchone()
    return row[0] if row else None


def _marker_write(value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
            "(name varchar(32) PRIMARY KEY, value varchar(200) NOT NULL)"
        )
        cursor.execute(f"DELETE FROM {MARKER_TABLE}")
        cursor.execute(f"INSERT INTO {MARKER_TABLE} (name, value) VALUES ('seed', %s)", [value])


# --- seeding -------------------------------------------------------------------------------


class Table:
    """Rows for one model's table, written with every column: unset ones take defaults.

    A column the seed does not set takes the field's default (or NULL, or "" for blank
    text), so a field added later with a default does not break the seed; one without
    any is named in the error.
    """

    def __init__(self, model: type[models.Model], now: datetime.datetime) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.defaults: dict[str, Any] = {}
        for field in self.fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value: Any = now
            elif field.has_default():
                value = field.get_default()
            elif field.null:
                value = None
            elif field.blank and field.empty_strings_allowed:
                value = ""
            else:
                value = _REQUIRED
            self.defaults[field.attname] = value
        self.rows: list[tuple[Any, ...]] = []

    def add(self, **values: Any) -> None:
        row = []
        for field in self.fields:
            value = values.get(field.attname, self.defaults[field.attname])
            if value is _REQUIRED:
                raise ValueError(f"The seed sets no value for {self.model.__name__}.{field.name}.")
            row.append(field.get_db_prep_save(value, connection))
        self.rows.append(tuple(row))

    def write(self) -> int:
        qn = connection.ops.quote_name
        table = qn(self.model._meta.db_table)
        columns = ", ".join(qn(str(f.column)) for f in self.fields)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.fields))
                sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
                for batch in batched(self.rows, 10_000):
                    cursor.executemany(sql, batch)
        return len(self.rows)


_REQUIRED = object()


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _next_id(model: type[models.Model]) -> int:
    found = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return int(found or 0) + 1


def requests_seed() -> int:
    """Insert the board's data into the current database in one transaction."""
    from rapport.accounts.models import Account
    from rapport.inbox.models import Channel, ChannelAccount, Conversation, Message
    from rapport.requests.models import Request, RequestMessage
    from rapport.users.models import User
    from rapport.users.services import user_create

    rng = random.Random(SEED)  # noqa: S311 - benchmark data, reproducible on purpose
    now = timezone.now()
    with transaction.atomic():
        viewer = user_create(email=VIEWER_EMAIL, password=None, name="Board Bench Member")
        members = [viewer] + [
            user_create(email=f"board-bench-{n}@example.com", password=None, name=f"Agent {n:02d}")
            for n in range(1, MEMBERS)
        ]
        member_ids = [m.pk for m in members]

        accounts, channels, links = (
            Table(Account, now),
            Table(Channel, now),
            Table(ChannelAccount, now),
        )
        account_ids = [ID_BASE + n for n in range(1, ACCOUNTS + 1)]
        for pk in account_ids:
            name = f"Board Bench {pk - ID_BASE:03d} Inc"
            accounts.add(id=pk, name=name, search_text=name.lower())
        channel_ids = [ID_BASE + n for n in range(1, CHANNELS + 1)]
        channel_account: dict[int, int] = {}
        link_id = _next_id(ChannelAccount)
        for index, pk in enumerate(channel_ids):
            channels.add(
                id=pk,
                slack_team_id="T0BOARDBENCH",
                slack_channel_id=f"CB{pk}",
                name=f"ext-board-bench-{index + 1:03d}",
                csm_id=rng.choice(member_ids),
            )
            linked = account_ids[index % ACCOUNTS]
            channel_account[pk] = linked
            links.add(id=link_id + index, channel_id=pk, account_id=linked)
        written = accounts.write() + channels.write() + links.write()
        progress(f"bench: generating {REQUESTS:,} requests")

        conversations, messages = Table(Conversation, now), Table(Message, now)
        requests, request_links = Table(Request, now), Table(RequestMessage, now)
        first_conversation, first_message = _next_id(Conversation), _next_id(Message)
        first_request, first_link = _next_id(Request), _next_id(RequestMessage)
        for n in range(REQUESTS):
            conversation_id, message_id = first_conversation + n, first_message + n
            source = _weighted(rng, SOURCE_MIX)
            status = _weighted(rng, STATUS_MIX)
            channel_id: int | None = rng.choice(channel_ids) if source == "slack" else None
            if channel_id is not None:
                account_id: int | None = channel_account[channel_id]
            else:
                account_id = rng.choice(account_ids) if rng.random() < 0.93 else None
            # Older requests are mostly closed; the open ones are recent.
            days = rng.uniform(0, 365) if status == "closed" else rng.expovariate(1 / 12)
            created = now - datetime.timedelta(days=min(days, 365), seconds=rng.randint(0, 86399))
            person = rng.randint(1, 5000)
            email, name = f"person{person}@customer{person % 700}.example", f"Person {person}"
            title = f"{rng.choice(TOPICS)} (#{n + 1})"
            assignee = (
                None
                if rng.random() < (0.35 if status == "open" else 0.05)
                else rng.choice(member_ids)
            )
            responded = created + datetime.timedelta(minutes=rng.randint(3, 600))
            closed = created + datetime.timedelta(hours=rng.randint(1, 240))
            sla = rng.random() < 0.4
            thread = (
                f"T0BOARDBENCH:CB{channel_id}:{1_700_000_000 + n}.000100"
                if channel_id
                else f"<board-{n}@bench.example>"
            )
            conversations.add(
                id=conversation_id,
                source=source,
                thread_key=thread,
                account_id=account_id,
                channel_id=channel_id,
                requester_email=email,
                requester_name=name,
                subject=title if source != "slack" else "",
                mapping_method="",
                mapping_outcome="linked" if account_id else "unmatched",
                message_count=1,
                created_at=created,
                last_message_at=created,
            )
            messages.add(
                id=message_id,
                conversation_id=conversation_id,
                source=source,
                external_id=thread,
                direction="inbound",
                author_email=email,
                author_name=name,
                text=f"Hello, {title.lower()}. Can you help?",
                sent_at=created,
            )
            requests.add(
                id=first_request + n,
                account_id=account_id,
                channel_id=channel_id,
                conversation_id=conversation_id,
                message_id=message_id,
                source=source,
                requester_name=name,
                requester_email=email,
                title=title,
                status=status,
                assignee_id=assignee,
                assigned_at=created if assignee else None,
                origin="detected",
                detection_score=0.9,
                created_at=created,
                updated_at=max(created, closed if status == "closed" else created),
                last_activity_at=closed if status == "closed" else created,
                last_customer_message_at=created,
                first_response_at=responded if status != "open" or assignee else None,
                closed_at=closed if status == "closed" else None,
                first_response_due_at=created + datetime.timedelta(hours=4) if sla else None,
                resolution_due_at=created + datetime.timedelta(days=3) if sla else None,
                sla_policy_name="Standard" if sla else "",
            )
            request_links.add(
                id=first_link + n, request_id=first_request + n, message_id=message_id
            )
        progress("bench: inserting requests")
        for table in (conversations, messages, requests, request_links):
            written += table.write()
        with connection.cursor() as cursor:
            touched = [Account, Channel, ChannelAccount, Conversation, Message, Request]
            for sql in connection.ops.sequence_reset_sql(no_style(), [*touched, RequestMessage]):
                cursor.execute(sql)
        _marker_write(_marker())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Request, Conversation, Message, RequestMessage, User):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return written


# --- the bare-SQL baseline -------------------------------------------------------------------

CARD_SQL = (
    "SELECT r.id, r.title, r.status, r.source, r.created_at, r.requester_name,"
    " r.requester_email, r.first_response_at, r.first_response_due_at, r.resolution_due_at,"
    " r.closed_at, r.ticket_sent_at, r.account_id, r.assignee_id, r.channel_id,"
    " a.id, a.name, u.id, u.name, u.email, c.id, c.name"
    " FROM requests_request r"
    " LEFT JOIN accounts_account a ON a.id = r.account_id"
    " LEFT JOIN users_user u ON u.id = r.assignee_id"
    " LEFT JOIN inbox_channel c ON c.id = r.channel_id"
    " WHERE {status}{where} ORDER BY r.created_at DESC, r.id DESC LIMIT %s"
)
# With a filter whose index leads, SQLite (no statistics) needs the hint that the state
# matches most rows to walk that index rather than the state's (as the board does).
LIKELY_STATUS = "likelihood(r.status = %s, 0.9)"


class BoardSql:
    """Read what the board's first page shows with hand-written SQL."""

    def __init__(self, *, viewer_id: int, session_key: str, limit: int) -> None:
        self.viewer_id = viewer_id
        self.session_key = session_key
        self.limit = limit

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def page(self, assignee_id: int | None = None) -> dict[str, list[int]]:
        """Run the page's queries; return the ids of each column's cards."""
        self._all(
            "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s",
            [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        self._all("SELECT * FROM users_user WHERE id = %s", [self.viewer_id])
        where, params = (
            ("", []) if assignee_id is None else (" AND r.assignee_id = %s", [assignee_id])
        )
        counts = dict(
            self._all(
                f"SELECT r.status, COUNT(*) FROM requests_request r WHERE 1 = 1{where}"
                " GROUP BY r.status",
                params,
            )
        )
        columns: dict[str, list[int]] = {}
        for status in ("open", "waiting", "pending", "closed"):
            if not counts.get(status):
                columns[status] = []
                continue
            hinted = assignee_id is not None and connection.vendor == "sqlite"
            sql = CARD_SQL.format(status=LIKELY_STATUS if hinted else "r.status = %s", where=where)
            rows = self._all(sql, [status, *params, self.limit + 1])
            columns[status] = [row[0] for row in rows[: self.limit]]
        self._all("SELECT id, name, email FROM users_user WHERE is_active ORDER BY name, email")
        return columns


def _baseline(sql: BoardSql, assignee_id: int | None) -> Callable[[], object]:
    return lambda: sql.page(assignee_id)


def _board_ids(assignee_id: int | None, limit: int) -> dict[str, list[int]]:
    from rapport.requests.filters import RequestFilterSet
    from rapport.requests.selectors import board_get

    filters = RequestFilterSet(assignees=[assignee_id] if assignee_id else [])
    return {c.status: [r.pk for r in c.items] for c in board_get(filters, limit=limit).columns}


def bench_board(runs: int, warmup: int) -> list[dict[str, Any]]:
    """Seed the requests once, then measure the board against its bare-SQL baseline."""
    from bench.directory import Result, compare_ms, statement_count
    from rapport.requests import views_board
    from rapport.users.models import User

    found = _marker_read()
    if found is None:
        progress(f"bench: seeding {REQUESTS:,} requests for the board")
        progress(f"bench: wrote {requests_seed():,} rows")
    elif found != _marker():
        raise RuntimeError(
            f"The benchmark database holds board seed {found!r}, not {_marker()!r}; "
            "delete bench/.data (or the rapport_bench database) to seed again."
        )
    else:
        progress(f"bench: reusing the seeded board ({REQUESTS:,} requests)")

    viewer = User.objects.get(email=VIEWER_EMAIL)
    busiest = (
        User.objects.filter(email__startswith="board-bench-")
        .exclude(pk=viewer.pk)
        .order_by("pk")
        .first()
    )
    assert busiest is not None
    limit: int = views_board.PAGE_SIZE
    client = Client()
    client.force_login(viewer)
    sql = BoardSql(
        viewer_id=viewer.pk,
        session_key=client.cookies[settings.SESSION_COOKIE_NAME].value,
        limit=limit,
    )

    def page(params: dict[str, str]) -> Callable[[], object]:
        def run() -> None:
            response = client.get(PAGE_URL, params)
            if response.status_code != 200:
                raise RuntimeError(f"GET {PAGE_URL} answered {response.status_code}")

        return run

    cases: tuple[tuple[str, dict[str, str], int | None], ...] = (
        ("requests_board_ms", {}, None),
        ("requests_board_assignee_ms", {"assignee": str(busiest.pk)}, busiest.pk),
    )
    results: list[Result] = []
    for name, params, assignee_id in cases:
        if sql.page(assignee_id) != _board_ids(assignee_id, limit):
            raise RuntimeError(f"The bare-SQL baseline does not return the board of {name}.")
        progress(f"bench: {name}")
        value, base = compare_ms(
            page(params), _baseline(sql, assignee_id), runs=runs, warmup=warmup
        )
        results.append(Result(name, value, "ms", base, runs))

    # Queries per board page, for 10 cards a column and for 50: the same.
    baseline_statements = statement_count(lambda: sql.page())
    for size in (10, 50):
        views_board.PAGE_SIZE = size
        try:
            count = statement_count(page({}))
        finally:
            views_board.PAGE_SIZE = limit
        results.append(
            Result(f"requests_board_queries_{size}_cards", count, "queries", baseline_statements, 1)
        )
    return [r.as_json() for r in results]


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        sys.exit(f"{name} must be a whole number of at least 1, not {raw!r}.")
    return int(raw)


def main() -> None:
    from bench.database import bench_environment_configure

    runs = _int_env("BENCH_RUNS", 30)
    warmup = _int_env("BENCH_WARMUP", 5)
    bench_environment_configure()

    import django

    django.setup()

    from bench.database import bench_database_describe, bench_database_prepare
    from bench.seed import bench_seed_marker

    progress(f"bench: {bench_database_describe()}")
    # Migrates; keeps the directory's seed when there is one of the default size.
    bench_database_prepare(bench_seed_marker(_int_env("BENCH_ACCOUNTS", 100_000)))
    for result in bench_board(runs, warmup):
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

"""Load on a real stack: tickets, directory readers and email, as `make run` serves them.

`python -m bench.load` (run by `make bench`) starts `manage.py runstack` on 127.0.0.1 with
the demo workspace in a fresh database of its own (SQLite, or PostgreSQL when DATABASE_URL
names a server), then, from this process (the load generator shares the machine):

- tickets: LOAD_WRITERS (50) API clients post tickets back to back for LOAD_SECONDS (60),
  requester domains mixed (the demo accounts' domains, and new companies whose first
  tickets race each other), while LOAD_READERS (20) members each load the account
  directory twice a second. Figures: tickets accepted per second, ticket and directory
  p99 latency, server errors and dropped connections, and a check that every accepted
  ticket is in the database exactly once.
- email: one client posts LOAD_EMAILS (2,000) realistic emails one at a time to
  `POST /api/v1/inbound/email`, a fifth of them replies to earlier ones; the clock stops
  when the worker has drained and every reply is threaded into its conversation.

The baseline is the bare SQL insert rate of the same rows: one INSERT and COMMIT per
ticket (or email) into a plain table with the same columns, on the same database.
"""

import asyncio
import datetime
import json
import math
import os
import random
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from typing import Any

from bench.httpload import Answer, Connection, Dropped, Tally, post_retrying
from bench.stack import Stack

SEED = 20261206
NEW_DOMAINS = 400


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        sys.exit(f"{name}={raw!r} is not a whole number.")
    if value < 1:
        sys.exit(f"{name} must be at least 1.")
    return value


def line(name: str, value: float, unit: str, baseline: float, n: int) -> dict[str, Any]:
    ratio = value / baseline if baseline else 0.0
    return {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": round(baseline, 3),
        "ratio": round(ratio, 3) if ratio >= 0.1 else float(f"{ratio:.2g}"),
        "n": n,
    }


def member_session(stack: Stack, email: str = "member@example.com") -> str:
    """Log in through the login form; return the Cookie header of the session."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{stack.url}/login/", timeout=30).read().decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": email, "password": "rapport-demo"}
    ).encode()
    request = urllib.request.Request(  # noqa: S310
        f"{stack.url}/login/", data=form, headers={"Referer": f"{stack.url}/login/"}
    )
    opener.open(request, timeout=30)
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        sys.exit("bench: the demo member could not log in")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def known_domains(stack: Stack) -> list[str]:
    conn = stack.connect()
    try:
        rows = conn.execute("SELECT domain FROM accounts_accountdomain").fetchall()
    finally:
        conn.close()
    return [row[0] for row in rows]


def ticket_body(marker: object, rng: random.Random, domains: list[str]) -> dict[str, Any]:
    if rng.random() < 0.5:
        domain = rng.choice(domains)
    else:
        domain = f"newco{rng.randrange(NEW_DOMAINS):04d}.example"
    person = rng.randrange(30)
    return {
        "requester_email": f"person{person}@{domain}",
        "requester_name": f"Person {person}",
        "subject": f"Export stopped at row {rng.randrange(10_000)}",
        "body": (
            f"Hi team, our nightly export stopped again at row {rng.randrange(10_000)} "
            f"with a timeout. Could you look into it? Ticket marker [load-{marker}]"
        ),
    }


async def ticket_post(
    connection: Connection,
    token: str,
    marker: str,
    rng: random.Random,
    tally: Tally,
    accepted: dict[str, int],
    *,
    retry_until: float = math.inf,
) -> None:
    """Post one ticket marked *marker*; on 503 wait its Retry-After and post it again."""
    payload = json.dumps(ticket_body(marker, rng, known_domains_cache)).encode()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"load-{marker}",
    }
    answer = await post_retrying(
        connection, "/api/v1/tickets", payload, headers, tally, retry_until=retry_until
    )
    if answer is not None and answer.status in (200, 201):
        accepted[marker] = json.loads(answer.body)["id"]


async def _writer(
    stack: Stack, token: str, index: int, deadline: float, tally: Tally, accepted: dict[str, int]
) -> None:
    rng = random.Random(SEED + index)
    connection = Connection("127.0.0.1", stack.port)
    n = 0
    while time.perf_counter() < deadline:
        marker = f"{index}-{n}"
        await ticket_post(connection, token, marker, rng, tally, accepted, retry_until=deadline)
        n += 1
    connection.close()


async def _reader(stack: Stack, cookie: str, deadline: float, tally: Tally) -> None:
    connection = Connection("127.0.0.1", stack.port)
    next_at = time.perf_counter()
    while time.perf_counter() < deadline:
        try:
            answer: Answer = await connection.request(
                "GET", "/accounts/", headers={"Cookie": cookie}
            )
            tally.add(answer)
        except Dropped:
            tally.dropped += 1
        next_at += 0.5  # two requests a second, paced
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    connection.close()


known_domains_cache: list[str] = []


async def _tickets_and_readers(
    stack: Stack, token: str, cookie: str, writers: int, readers: int, seconds: float
) -> tuple[Tally, Tally, dict[str, int], float]:
    tickets, directory = Tally(), Tally()
    accepted: dict[str, int] = {}
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(
        *(_writer(stack, token, i, deadline, tickets, accepted) for i in range(writers)),
        *(_reader(stack, cookie, deadline, directory) for _ in range(readers)),
    )
    return tickets, directory, accepted, time.perf_counter() - start


def tickets_check(stack: Stack, accepted: dict[str, int]) -> tuple[int, int]:
    """Return (missing, duplicated) accepted tickets, by their marker in the stored messages."""
    conn = stack.connect()
    try:
        rows = conn.execute(
            "SELECT text FROM inbox_message WHERE source = 'api' AND text LIKE '%[load-%'"
        ).fetchall()
    finally:
        conn.close()
    seen: dict[str, int] = {}
    for (text,) in rows:
        marker = text.rsplit("[load-", 1)[1].split("]", 1)[0]
        seen[marker] = seen.get(marker, 0) + 1
    missing = sum(1 for marker in accepted if marker not in seen)
    duplicated = sum(1 for count in seen.values() if count > 1)
    return missing, duplicated


def bare_insert_rate(stack: Stack, rows: int) -> float:
    """Rows per second for one INSERT and COMMIT each, of ticket-sized rows, bare SQL."""
    rng = random.Random(SEED)
    domains = known_domains_cache or ["example.com"]
    bodies = [ticket_body(n, rng, domains) for n in range(rows)]
    conn = stack.connect()
    placeholder = "%s" if stack.vendor == "postgresql" else "?"
    try:
        conn.execute("DROP TABLE IF EXISTS bench_bare_ticket")
        conn.execute(
            "CREATE TABLE bench_bare_ticket (id integer PRIMARY KEY, email varchar(254), "
            "name varchar(200), subject varchar(300), body text)"
            if stack.vendor == "sqlite"
            else "CREATE TABLE bench_bare_ticket (id bigserial PRIMARY KEY, email varchar(254), "
            "name varchar(200), subject varchar(300), body text)"
        )
        sql = (
            "INSERT INTO bench_bare_ticket (email, name, subject, body) VALUES "
            f"({placeholder}, {placeholder}, {placeholder}, {placeholder})"
        )
        start = time.perf_counter()
        for body in bodies:
            if stack.vendor == "sqlite":
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    sql,
                    (
                        body["requester_email"],
                        body["requester_name"],
                        body["subject"],
                        body["body"],
                    ),
                )
                conn.execute("COMMIT")
            else:
                with conn.transaction():
                    conn.execute(
                        sql,
                        (
                            body["requester_email"],
                            body["requester_name"],
                            body["subject"],
                            body["body"],
                        ),
                    )
        elapsed = time.perf_counter() - start
        conn.execute("DROP TABLE bench_bare_ticket")
    finally:
        conn.close()
    return rows / elapsed


def bench_tickets(stack: Stack, token: str) -> list[dict[str, Any]]:
    writers = _int_env("LOAD_WRITERS", 50)
    readers = _int_env("LOAD_READERS", 20)
    seconds = _int_env("LOAD_SECONDS", 60)
    known_domains_cache[:] = known_domains(stack)
    cookie = member_session(stack)
    stack.progress(f"{writers} ticket writers and {readers} directory readers for {seconds} s")
    tickets, directory, accepted, elapsed = asyncio.run(
        _tickets_and_readers(stack, token, cookie, writers, readers, seconds)
    )
    missing, duplicated = tickets_check(stack, accepted)
    rate = len(accepted) / elapsed
    stack.progress(
        f"tickets: {len(accepted):,} accepted ({rate:.0f}/s), statuses {tickets.statuses}, "
        f"dropped {tickets.dropped}, p50 {tickets.percentile(0.5) * 1000:.0f} ms, "
        f"p99 {tickets.percentile(0.99) * 1000:.0f} ms; missing {missing}, duplicated {duplicated}"
    )
    stack.progress(
        f"directory: {sum(directory.statuses.values()):,} pages, statuses {directory.statuses}, "
        f"dropped {directory.dropped}, p50 {directory.percentile(0.5) * 1000:.0f} ms, "
        f"p99 {directory.percentile(0.99) * 1000:.0f} ms"
    )
    bare = bare_insert_rate(stack, min(len(accepted), 5_000) or 1)
    n = len(accepted)
    return [
        line("load_tickets_per_s", rate, "tickets/s", bare, n),
        line("load_ticket_p99_ms", tickets.percentile(0.99) * 1000, "ms", 1000 / bare, n),
        line(
            "load_directory_p99_ms",
            directory.percentile(0.99) * 1000,
            "ms",
            1000 / bare,
            len(directory.latencies),
        ),
        line(
            "load_server_errors",
            tickets.server_errors + directory.server_errors,
            "responses",
            0,
            n + len(directory.latencies),
        ),
        line("load_dropped_connections", tickets.dropped + directory.dropped, "connections", 0, n),
        line("load_tickets_lost_or_duplicated", missing + duplicated, "tickets", 0, n),
    ]


def email_raw(n: int, rng: random.Random, domains: list[str], parent: str | None) -> bytes:
    """A realistic customer email: multipart text and HTML, a signature, a quoted reply."""
    from email.message import EmailMessage
    from email.utils import format_datetime

    if rng.random() < 0.6:
        domain = rng.choice(domains)
    else:
        domain = f"mailco{rng.randrange(NEW_DOMAINS):04d}.example"
    person = rng.randrange(30)
    message = EmailMessage()
    message["From"] = f"Person {person} <person{person}@{domain}>"
    message["To"] = "support@rapport.example"
    message["Subject"] = ("Re: " if parent else "") + f"Invoice {rng.randrange(10_000)} looks wrong"
    message["Date"] = format_datetime(datetime.datetime.now(datetime.UTC))
    message["Message-ID"] = f"<load-email-{n}@{domain}>"
    if parent:
        message["In-Reply-To"] = parent
        message["References"] = parent
    text = (
        f"Hello,\n\nThe invoice we received this morning lists {rng.randrange(5, 90)} seats, "
        f"but our plan has {rng.randrange(5, 90)}. Could you check it and send a corrected one?"
        f"\n\nThanks,\nPerson {person}\n{domain}\n"
    )
    if parent:
        text += "\nOn Monday, support wrote:\n> We are looking into it.\n"
    message.set_content(text)
    message.add_alternative(
        f"<html><body><p>{text.replace(chr(10), '<br>')}</p></body></html>", subtype="html"
    )
    return bytes(message)


def emails_build(count: int) -> list[tuple[bytes, str, str | None]]:
    """Build *count* emails, a fifth of them replies to earlier ones: (raw, id, parent id).

    Built before the clock starts: the client's own cost of writing mail is not the
    server's rate of taking it.
    """
    rng = random.Random(SEED)
    built: list[tuple[bytes, str, str | None]] = []
    for n in range(count):
        parent = rng.choice(built)[1] if built and rng.random() < 0.2 else None
        raw = email_raw(n, rng, known_domains_cache, parent)
        message_id = raw.split(b"Message-ID: ", 1)[1].split(b"\n", 1)[0].strip().decode()
        built.append((raw, message_id, parent))
    return built


async def _email_client(
    stack: Stack, token: str, emails: list[tuple[bytes, str, str | None]], tally: Tally
) -> dict[str, str]:
    """Post *emails* one at a time; return each reply's Message-ID -> its parent's."""
    connection = Connection("127.0.0.1", stack.port)
    replies: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    for raw, message_id, parent in emails:
        answer = await post_retrying(connection, "/api/v1/inbound/email", raw, headers, tally)
        if answer is not None and answer.status in (200, 202) and parent:
            replies[message_id] = parent
    connection.close()
    return replies


def _drained(stack: Stack) -> bool:
    conn = stack.connect()
    try:
        pending_events = conn.execute(
            "SELECT count(*) FROM inbox_inboundevent WHERE status = 'pending'"
        ).fetchone()[0]
        waiting_tasks = conn.execute(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE status IN ('READY', 'RUNNING')"
        ).fetchone()[0]
        untriaged = conn.execute("SELECT count(*) FROM requests_pendingtriage").fetchone()[0]
    finally:
        conn.close()
    return pending_events == 0 and waiting_tasks == 0 and untriaged == 0


def replies_threaded(stack: Stack, replies: dict[str, str]) -> int:
    """Return how many replies are not in their parent's conversation."""
    conn = stack.connect()
    try:
        rows = dict(
            conn.execute(
                "SELECT external_id, conversation_id FROM inbox_message WHERE source = 'email'"
            ).fetchall()
        )
    finally:
        conn.close()

    def stored(message_id: str) -> str:  # stored without the angle brackets
        return message_id.strip("<>")

    return sum(
        1
        for reply, parent in replies.items()
        if stored(reply) not in rows or rows[stored(reply)] != rows.get(stored(parent))
    )


def bench_email(stack: Stack, token: str) -> list[dict[str, Any]]:
    count = _int_env("LOAD_EMAILS", 2_000)
    known_domains_cache[:] = known_domains(stack)
    emails = emails_build(count)
    stack.progress(f"posting {count:,} emails one at a time")
    tally = Tally()
    start = time.perf_counter()
    replies = asyncio.run(_email_client(stack, token, emails, tally))
    posted = time.perf_counter() - start
    while not _drained(stack):
        if time.perf_counter() - start > 600:
            sys.exit("bench: the worker did not drain the email backlog in 10 minutes")
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    unthreaded = replies_threaded(stack, replies)
    accepted = tally.count(200, 202)
    stack.progress(
        f"email: {accepted:,} accepted in {posted:.1f} s, drained after {elapsed:.1f} s "
        f"({accepted / elapsed:.0f}/s); statuses {tally.statuses}, dropped {tally.dropped}; "
        f"{len(replies)} replies, {unthreaded} not threaded"
    )
    bare = bare_insert_rate(stack, min(accepted, 2_000) or 1)
    return [
        line("load_emails_per_s", accepted / elapsed, "emails/s", bare, accepted),
        line("load_email_p99_ms", tally.percentile(0.99) * 1000, "ms", 1000 / bare, accepted),
        line("load_email_replies_unthreaded", unthreaded, "replies", 0, len(replies)),
        line(
            "load_email_server_errors",
            tally.server_errors + tally.dropped,
            "responses",
            0,
            accepted,
        ),
    ]


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "load"
    stack = Stack(name)
    token = stack.prepare()
    stack.start()
    try:
        for result in [*bench_tickets(stack, token), *bench_email(stack, token)]:
            print(json.dumps(result), flush=True)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()

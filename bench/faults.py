"""Faults on a real stack: a killed worker, a held write lock, a database outage.

`python -m bench.faults` (run by `make bench` after the load figures) starts the stack as
`make run` does (bench/stack.py) and then:

- worker kill: queues a backlog of emails through the SMTP listener (smtplib, a real
  client), kills the worker with SIGKILL while it works through them, and times how long
  the supervisor's new worker takes to finish the backlog; every email must end up as
  exactly one message, and every task record finished.
- database held: while 20 clients post tickets, another process holds the database for
  DB_HOLD_SECONDS (10): on SQLite it takes the write lock (`BEGIN IMMEDIATE`, as a backup
  tool would); on PostgreSQL the database refuses connections and its sessions are cut
  (an outage). Every request must succeed, or get 503 with Retry-After (the client then
  retries); none may get another 5xx or a dropped connection, nothing accepted may be lost,
  and the stack must serve afterwards.

Each figure's baseline is its ideal: 0 for counts of failures, the fault's own length for
recovery times.
"""

import asyncio
import json
import os
import random
import signal
import smtplib
import sys
import threading
import time
from email.message import EmailMessage
from typing import Any

from bench.httpload import Connection, Tally
from bench.load import known_domains, known_domains_cache, line, ticket_post
from bench.stack import Stack

BACKLOG = int(os.environ.get("FAULT_EMAILS", "600"))
HOLD_SECONDS = float(os.environ.get("DB_HOLD_SECONDS", "10"))


def _count(stack: Stack, sql: str) -> int:
    conn = stack.connect()
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def _backlog_send(stack: Stack, count: int) -> None:
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=60) as client:
        for n in range(count):
            message = EmailMessage()
            message["From"] = f"person{n % 30}@fault{n % 50:02d}.example"
            message["To"] = "support@rapport.example"
            message["Subject"] = f"Backlog {n}: the sync is stuck"
            message["Message-ID"] = f"<fault-backlog-{n}@fault.example>"
            message.set_content(f"Hello, the nightly sync is stuck again (case {n}). Can you help?")
            client.send_message(message)


def bench_worker_kill(stack: Stack) -> list[dict[str, Any]]:
    stack.progress(f"queueing {BACKLOG} emails through the SMTP listener")
    pending_sql = "SELECT count(*) FROM inbox_inboundevent WHERE status = 'pending'"
    before = stack.child_pids("worker")
    # Paused while the backlog builds, so the kill lands in the middle of it.
    for pid in before:
        os.kill(pid, signal.SIGSTOP)
    _backlog_send(stack, BACKLOG)
    for pid in before:
        os.kill(pid, signal.SIGCONT)
    # Kill once the worker is into the backlog, not before it started.
    deadline = time.monotonic() + 30
    while _count(stack, pending_sql) >= BACKLOG and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _count(stack, pending_sql)
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    killed_at = time.perf_counter()
    stack.progress(f"killed the worker (pid {before}) with {left} of {BACKLOG} events pending")
    running_sql = (
        "SELECT count(*) FROM django_tasks_database_dbtaskresult "
        "WHERE status IN ('READY', 'RUNNING')"
    )
    while True:
        pending = _count(stack, pending_sql)
        tasks = _count(stack, running_sql)
        if pending == 0 and tasks == 0:
            break
        if time.perf_counter() - killed_at > 300:
            sys.exit(f"bench: {pending} events, {tasks} tasks left 5 minutes after the kill")
        time.sleep(0.2)
    recovered = time.perf_counter() - killed_at
    after = stack.child_pids("worker")
    restarted = bool(after) and not set(after) & set(before)
    backlog = "FROM inbox_message WHERE source = 'email' AND external_id LIKE 'fault-backlog-%'"
    messages = _count(stack, f"SELECT count(*) {backlog}")
    distinct = _count(stack, f"SELECT count(DISTINCT external_id) {backlog}")
    failed = _count(
        stack, "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'FAILED'"
    )
    lost = BACKLOG - distinct
    duplicated = messages - distinct
    stack.progress(
        f"worker kill: restarted {restarted} (pids {after}); backlog done {recovered:.1f} s "
        f"after the kill; {distinct} of {BACKLOG} messages, {duplicated} duplicated, "
        f"{failed} failed tasks"
    )
    if not restarted:
        sys.exit("bench: the supervisor did not restart the killed worker")
    return [
        line("fault_worker_kill_backlog_done_s", recovered, "s", 0, BACKLOG) | {"ratio": None},
        line(
            "fault_worker_kill_lost_or_duplicated",
            lost + duplicated + failed,
            "messages",
            0,
            BACKLOG,
        ),
    ]


def _hold_sqlite(stack: Stack, seconds: float, held: threading.Event) -> None:
    conn = stack.connect()
    conn.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def _hold_postgres(stack: Stack, seconds: float, held: threading.Event) -> None:
    import psycopg

    name = stack.postgres_name
    with psycopg.connect(stack.admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        held.set()
        time.sleep(seconds)
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


async def _posters(
    stack: Stack, token: str, clients: int, seconds: float, tally: Tally, accepted: dict[str, int]
) -> None:
    deadline = time.perf_counter() + seconds

    async def client(index: int) -> None:
        rng = random.Random(index)
        connection = Connection("127.0.0.1", stack.port, timeout=90)
        n = 0
        while time.perf_counter() < deadline:
            await ticket_post(connection, token, f"fault-{index}-{n}", rng, tally, accepted)
            n += 1
            await asyncio.sleep(0.1)
        connection.close()

    await asyncio.gather(*(client(i) for i in range(clients)))


def bench_database_held(stack: Stack, token: str) -> list[dict[str, Any]]:
    from bench.load import tickets_check

    kind = "write lock" if stack.vendor == "sqlite" else "outage"
    stack.progress(f"20 clients post tickets while the database {kind} lasts {HOLD_SECONDS:.0f} s")
    tally = Tally()
    accepted: dict[str, int] = {}
    held = threading.Event()
    hold = _hold_sqlite if stack.vendor == "sqlite" else _hold_postgres

    def fault() -> None:
        time.sleep(3)
        hold(stack, HOLD_SECONDS, held)

    thread = threading.Thread(target=fault)
    thread.start()
    asyncio.run(_posters(stack, token, 20, HOLD_SECONDS + 12, tally, accepted))
    thread.join()
    missing, duplicated = tickets_check(stack, accepted)
    status, _ = stack.health()
    errors = tally.server_errors + tally.statuses.get(-503, 0)
    stack.progress(
        f"database {kind}: {len(accepted)} tickets accepted, statuses {tally.statuses}, "
        f"dropped {tally.dropped}, p99 {tally.percentile(0.99) * 1000:.0f} ms; "
        f"missing {missing}, duplicated {duplicated}; /healthz afterwards {status}"
    )
    return [
        line("fault_db_held_server_errors", errors, "responses", 0, sum(tally.statuses.values())),
        line("fault_db_held_dropped_connections", tally.dropped, "connections", 0, len(accepted)),
        line("fault_db_held_lost_or_duplicated", missing + duplicated, "tickets", 0, len(accepted)),
        line("fault_db_held_503_answers", tally.count(503), "responses", 0, len(accepted))
        | {"ratio": None},
        line("fault_db_held_healthz_after", status, "status", 200, 1),
    ]


def main() -> None:
    stack = Stack("faults")
    token = stack.prepare()
    stack.start()
    try:
        known_domains_cache[:] = known_domains(stack)
        results = [*bench_worker_kill(stack), *bench_database_held(stack, token)]
        for result in results:
            print(json.dumps(result), flush=True)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()

"""Benchmark the ingest path end to end: store, process, map and link contacts.

`python -m bench.ingest` (run by `make bench` after the directory benchmark) pushes
BENCH_MESSAGES API tickets (default 100,000) through the whole path with the real worker:
`inbound_events_store_many` stores them in batches as a busy batch API would, and
`manage.py db_worker` processes (separate processes, the database task backend) turn
each into a conversation, a message, a mapping decision and a contact. The clock runs
from the first store to the last event done.

The baseline is the bare work underneath: one `executemany` INSERT of the same message
rows into a plain table, in the same run and the same database.

The benchmark has a database of its own, created afresh each run (the ingest adds
accounts and contacts, which would change the directory benchmark's data):
`bench/.data/ingest/rapport.sqlite3` on SQLite, `rapport_bench_ingest` on PostgreSQL.
"""

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.database import DATA_DIR, progress

VAR_DIR = DATA_DIR / "ingest"
POSTGRES_NAME = "rapport_bench_ingest"
ROOT = Path(__file__).resolve().parent.parent
SEED = 20260302
DOMAINS = 2_000
# Of the domains: accounts that exist, new companies (created on their first ticket)
# and public mail providers; the first two are weighted so a few domains are busy.
EXISTING_SHARE = 0.5
PUBLIC_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
    "aol.com",
    "gmx.de",
    "mail.ru",
    "yandex.ru",
)
PEOPLE_PER_DOMAIN = 25
PUBLIC_TICKET_SHARE = 0.08
CHANNEL_TICKET_SHARE = 0.05
ACCOUNT_ID_TICKET_SHARE = 0.02
CUSTOMER_REF_TICKET_SHARE = 0.02
STORE_BATCH = 500
STALL_SECONDS = 120


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw.strip() else default
    except ValueError:
        sys.exit(f"{name}={raw!r} is not a whole number.")
    if value < 1:
        sys.exit(f"{name} must be at least 1.")
    return value


def _environment() -> dict[str, str]:
    """Return the environment of the benchmark and of its workers: the ingest database."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "rapport.settings"
    env.setdefault("RAPPORT_ENV", "development")
    env["DEBUG"] = "0"
    env.setdefault("LOG_LEVEL", "WARNING")
    env["RAPPORT_VAR_DIR"] = str(VAR_DIR)
    env["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    url = env.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{POSTGRES_NAME}"))
    else:
        env.pop("DATABASE_URL", None)
    return env


def _database_recreate() -> None:
    """Start from an empty, migrated database."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        connection.close()
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_NAME}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{POSTGRES_NAME}"')
    else:
        connection.close()
        for path in VAR_DIR.glob("rapport.sqlite3*"):
            path.unlink()
    call_command("migrate", verbosity=0, interactive=False)


@dataclass
class Workload:
    """The tickets to send, and what the database held before."""

    tickets: list[tuple[str, dict[str, Any]]]
    accounts_before: int


def _workload_build(messages: int) -> Workload:
    """Seed the accounts, contacts and channels, and generate the tickets."""
    from django.db import transaction

    from rapport.accounts.models import Account
    from rapport.accounts.services import account_create, account_set_crm_mapping
    from rapport.accounts.services_contacts import contact_add_to_account
    from rapport.inbox.services import channel_create, channel_set_accounts
    from rapport.mapping.services import mapping_settings_update
    from rapport.users.models import Role
    from rapport.users.services import user_create

    rng = random.Random(SEED)
    admin = user_create(
        email="bench-admin@example.com", password=None, name="Bench Admin", role=Role.ADMIN
    )
    mapping_settings_update(actor=admin, auto_create_accounts=True)
    company_domains = [f"company{i:04d}.example" for i in range(DOMAINS - len(PUBLIC_DOMAINS))]
    existing = company_domains[: int(len(company_domains) * EXISTING_SHARE)]
    accounts: list[Account] = []
    channels: list[str] = []
    with transaction.atomic():
        for i, domain in enumerate(existing):
            # A fifth of the accounts have a second domain, which tickets also use.
            secondary = [f"{domain.removesuffix('.example')}-labs.example"] if i % 5 == 0 else []
            account = account_create(
                actor=None,
                name=f"Company {i:04d}",
                primary_domain=domain,
                secondary_domains=secondary,
            )
            for person in range(2):
                contact_add_to_account(account=account, email=f"person{person}@{domain}")
            if i % 10 == 0:
                account = account_set_crm_mapping(
                    actor=None, account=account, provider="hubspot", external_id=f"crm-{i}"
                )
            if i % 10 == 1:
                channel = channel_create(
                    slack_team_id="T0BENCH", slack_channel_id=f"C{i:08d}", name=f"customer-{i}"
                )
                channel_set_accounts(actor=None, channel=channel, accounts=[account])
                channels.append(channel.slack_channel_id)
            accounts.append(account)
        # Shared channels: two accounts each, settled by the contact or the domain.
        for i in range(0, 40, 2):
            channel = channel_create(
                slack_team_id="T0BENCH", slack_channel_id=f"S{i:08d}", name=f"shared-{i}"
            )
            channel_set_accounts(actor=None, channel=channel, accounts=accounts[i : i + 2])
            channels.append(channel.slack_channel_id)
    labs = [f"{d.removesuffix('.example')}-labs.example" for d in existing[::5]]
    weights = [1 / (rank + 1) ** 0.6 for rank in range(len(company_domains) + len(labs))]
    pool = company_domains + labs
    crm_ids = [(i, f"crm-{i}") for i in range(0, len(existing), 10)]
    tickets: list[tuple[str, dict[str, Any]]] = []
    picks = rng.choices(pool, weights=weights, k=messages)
    for n, domain in enumerate(picks):
        roll = rng.random()
        fields: dict[str, Any] = {"account_id": None, "customer_ref": "", "slack_channel": ""}
        if roll < PUBLIC_TICKET_SHARE:
            domain = rng.choice(PUBLIC_DOMAINS)
        elif (roll := roll - PUBLIC_TICKET_SHARE) < CHANNEL_TICKET_SHARE:
            fields["slack_channel"] = rng.choice(channels)
        elif (roll := roll - CHANNEL_TICKET_SHARE) < ACCOUNT_ID_TICKET_SHARE:
            fields["account_id"] = rng.choice(accounts).pk
        elif roll - ACCOUNT_ID_TICKET_SHARE < CUSTOMER_REF_TICKET_SHARE:
            fields["customer_ref"] = rng.choice(crm_ids)[1]
        person = rng.randrange(PEOPLE_PER_DOMAIN)
        body = {
            "requester_email": f"person{person}@{domain}",
            "requester_name": f"Person {person}",
            **fields,
            "subject": f"Question {n}",
            "body": f"Ticket {n}: the export stopped at row {rng.randrange(10_000)}.",
        }
        tickets.append((f"bench-{n:07d}", body))
    return Workload(tickets=tickets, accounts_before=Account.objects.count())


def _workers_start(count: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    command = [
        sys.executable,
        "manage.py",
        "db_worker",
        "--queue-name",
        "default",
        "--interval",
        "0.05",
        "--no-reload",
        "--no-startup-delay",
        "--verbosity",
        "0",
    ]
    return [
        subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)  # noqa: S603
        for _ in range(count)
    ]


def _workers_stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _ingest(workload: Workload, workers: list[subprocess.Popen[bytes]]) -> float:
    """Store every ticket and wait until the workers have processed them; return seconds."""
    from rapport.inbox.models import InboundEvent, InboundEventStatus, Source
    from rapport.inbox.services import inbound_events_store_many

    tickets = workload.tickets
    start = time.perf_counter()
    for offset in range(0, len(tickets), STORE_BATCH):
        inbound_events_store_many(Source.API, tickets[offset : offset + STORE_BATCH])
    stored = time.perf_counter()
    progress(f"bench: stored {len(tickets):,} events in {stored - start:.1f} s")
    last_report = last_progress = stored
    left = len(tickets)
    pending = InboundEvent.objects.filter(status=InboundEventStatus.PENDING)
    while True:
        # An index seek, not a count: the check must not slow down what it measures.
        if not pending.exists():
            return time.perf_counter() - start
        if any(worker.poll() is not None for worker in workers):
            sys.exit("bench: a worker stopped before the events were processed")
        now = time.perf_counter()
        if now - last_report > 10:
            count = pending.count()
            progress(f"bench: {count:,} events pending after {now - start:.0f} s")
            last_report = now
            if count < left:
                left, last_progress = count, now
            elif now - last_progress > STALL_SECONDS:
                # Failed events wait for the recovery job, which the benchmark does not run.
                sys.exit(f"bench: no event processed for {STALL_SECONDS} s; see the worker logs")
        time.sleep(0.1)


def _check(workload: Workload) -> Counter[str]:
    """Check that every ticket went the whole way; return the mapping outcomes."""
    from rapport.accounts.models import Account
    from rapport.inbox.models import Conversation, InboundEvent, Message
    from rapport.mapping.models import MappingDecision

    count = len(workload.tickets)
    statuses = Counter(InboundEvent.objects.values_list("status", flat=True))
    if statuses != Counter({"done": count}):
        sys.exit(f"bench: the events ended as {dict(statuses)}, not all done")
    for model in (Conversation, Message, MappingDecision):
        if (found := model.objects.count()) != count:
            sys.exit(f"bench: {found:,} {model.__name__} rows for {count:,} tickets")
    outcomes = Counter(
        f"{method}/{outcome}"
        for method, outcome in MappingDecision.objects.values_list("method", "outcome")
    )
    created = Account.objects.count() - workload.accounts_before
    progress(f"bench: {created:,} accounts created; decisions: {dict(sorted(outcomes.items()))}")
    return outcomes


def _bare_insert_seconds() -> float:
    """Time one INSERT of the stored message rows into a plain table, in one transaction."""
    from django.db import connection, transaction

    from rapport.inbox.models import Message

    rows = [
        (*row[:5], connection.ops.adapt_datetimefield_value(row[5]))
        for row in Message.objects.order_by("pk").values_list(
            "source", "external_id", "author_email", "author_name", "text", "sent_at"
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_message")
        cursor.execute(
            "CREATE TABLE bench_bare_message (id integer PRIMARY KEY, source varchar(16), "
            "external_id varchar(300), author_email varchar(254), author_name varchar(200), "
            "text text, sent_at varchar(40))"
            if connection.vendor == "sqlite"
            else "CREATE TABLE bench_bare_message (id bigserial PRIMARY KEY, source varchar(16), "
            "external_id varchar(300), author_email varchar(254), author_name varchar(200), "
            "text text, sent_at timestamptz)"
        )
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bench_bare_message "
            "(source, external_id, author_email, author_name, text, sent_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            rows,
        )
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_bare_message")
    return elapsed


def _line(name: str, value: float, unit: str, baseline: float, n: int) -> dict[str, Any]:
    """Return one output line; a small ratio keeps two significant digits."""
    ratio = value / baseline
    return {
        "name": name,
        "value": round(value, 2),
        "unit": unit,
        "baseline": round(baseline, 2),
        "ratio": round(ratio, 2) if ratio >= 0.1 else float(f"{ratio:.2g}"),
        "n": n,
    }


def bench_ingest(*, messages: int, workers: int) -> list[dict[str, Any]]:
    """Run the ingest benchmark on the configured database; return its output lines."""
    started = time.perf_counter()
    _database_recreate()
    workload = _workload_build(messages)
    progress(
        f"bench: ingest database ready with {workload.accounts_before:,} accounts and "
        f"{messages:,} tickets to send, in {time.perf_counter() - started:.1f} s"
    )
    processes = _workers_start(workers, _environment())
    cpu_before = time.process_time()
    try:
        time.sleep(2)  # let the workers start (importing Django), as on a running install
        seconds = _ingest(workload, processes)
    finally:
        _workers_stop(processes)
    # CPU time says how much of the wall time the machine gave the work (it is shared).
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = usage.ru_utime + usage.ru_stime
    own_cpu = time.process_time() - cpu_before
    progress(
        f"bench: CPU time: workers {worker_cpu:.1f} s ({messages / worker_cpu:,.0f} messages "
        f"per CPU-second); this process (storing, watching) {own_cpu:.1f} s"
    )
    _check(workload)
    bare = _bare_insert_seconds()
    progress(
        f"bench: {messages:,} messages in {seconds:.1f} s with {workers} worker(s); "
        f"bare insert {bare:.2f} s"
    )
    triaged, triage_seconds = _triage_timed(min(messages, TRIAGE_MESSAGES))
    progress(f"bench: triaged {triaged:,} messages in {triage_seconds:.1f} s, in this process")
    return [
        _line("ingest_messages_per_s", messages / seconds, "messages/s", messages / bare, messages),
        _line("ingest_total_s", seconds, "s", bare, messages),
        _line(
            "triage_messages_per_s",
            triaged / triage_seconds,
            "messages/s",
            messages / bare,
            triaged,
        ),
    ]


TRIAGE_MESSAGES = 20_000


def _triage_timed(count: int) -> tuple[int, float]:
    """Triage the first *count* ingested messages, as the worker's task does, batch by batch.

    Every message is an API ticket, so each opens a request: triage's worst case. The
    baseline line is the ingest's bare message insert, per message.
    """
    from rapport.requests.triage import TRIAGE_BATCH, triage_pending

    start = time.perf_counter()
    done = triage_pending(batches=max(1, count // TRIAGE_BATCH))
    return done, time.perf_counter() - start


def main() -> None:
    messages = _int_env("BENCH_MESSAGES", 100_000)
    env = _environment()
    vendor_postgres = "DATABASE_URL" in env
    workers = _int_env("BENCH_WORKERS", 2 if vendor_postgres else 1)
    os.environ.clear()
    os.environ.update(env)
    (VAR_DIR / "static").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(VAR_DIR / "media", ignore_errors=True)

    import django

    django.setup()

    from bench.database import bench_database_describe

    progress(f"bench: ingest on {bench_database_describe()}")
    for line in bench_ingest(messages=messages, workers=workers):
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()

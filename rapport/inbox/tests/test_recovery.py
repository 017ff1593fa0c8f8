"""A worker killed in the middle of a batch loses nothing.

The real worker (`manage.py db_worker`, the database task backend) runs in a separate
process against the test database and is stopped with SIGKILL while its batch
transaction is open and has written part of the batch. The events are then still
pending; the recovery job enqueues them again and a new worker processes each one once.

Catching the worker inside its transaction, deterministically:
- PostgreSQL: the test holds a row lock (`SELECT ... FOR UPDATE`) on the account every
  ticket links to, so the worker's batch waits on it after writing its first rows; the
  test sees it waiting in `pg_stat_activity`.
- SQLite: nothing can make a writer wait once it holds the write lock, so the test
  watches for the moment the worker holds it with its task claimed, freezes the worker
  (SIGSTOP) and, with the worker frozen, checks that the lock is still held and the
  batch not committed before it kills the worker; otherwise it lets the worker go on
  and watches again.
"""

import datetime
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from rapport.accounts.models import Account, Contact
from rapport.accounts.services import account_create
from rapport.inbox.models import Conversation, InboundEvent, Message, Source
from rapport.inbox.services import inbound_events_recover, inbound_events_store_many
from rapport.inbox.tasks import inbound_recover
from rapport.inbox.tests.test_concurrency import shared_database  # noqa: F401 - a fixture
from rapport.mapping.models import MappingDecision

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(django_settings.BASE_DIR)
WORKER = [
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


@pytest.fixture
def worker_env(request: pytest.FixtureRequest, settings: Any) -> Iterator[dict[str, str]]:
    """Queue tasks in the database, and return the environment of a worker process.

    The worker runs with the install's settings, pointed at this test's database.
    """
    database_file: Path | None = request.getfixturevalue("shared_database")
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "RAPPORT_VAR_DIR")
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "rapport.settings",
        "RAPPORT_ENV": "test",
        "LOG_LEVEL": "WARNING",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    if database_file is not None:
        env["RAPPORT_VAR_DIR"] = str(database_file.parent)  # settings open rapport.sqlite3 there
    else:
        url = urlsplit(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{connection.settings_dict['NAME']}"))
    yield env


def tickets(count: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            f"ticket-{n:04d}",
            {
                "requester_email": f"person{n % 40}@acme.example",
                "requester_name": f"Person {n % 40}",
                "subject": f"Question {n}",
                "body": f"Ticket {n}",
            },
        )
        for n in range(count)
    ]


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.002)
    raise AssertionError(f"timed out waiting for {what}")


def the_task() -> DBTaskResult:
    return DBTaskResult.objects.get(task_path="rapport.inbox.tasks.inbound_process")


def recover_with_a_new_worker(env: dict[str, str], count: int) -> None:
    """Run the recovery job and the queue with a fresh worker, as the scheduler would."""
    # Fresh events may still be in a live worker's hands: recovery leaves them alone.
    assert inbound_events_recover() == 0
    # A minute later they are anybody's.
    InboundEvent.objects.update(received_at=timezone.now() - datetime.timedelta(minutes=2))
    inbound_recover.enqueue()
    finished = subprocess.run(
        [*WORKER, "--batch"], cwd=ROOT, env=env, timeout=300, capture_output=True, text=True
    )
    assert finished.returncode == 0, finished.stderr


def assert_processed_exactly_once(count: int) -> None:
    events = InboundEvent.objects.all()
    assert events.count() == count
    assert set(events.values_list("status", "attempts", "error")) == {("done", 1, "")}
    assert Conversation.objects.count() == Message.objects.count() == count
    assert MappingDecision.objects.count() == count
    assert Message.objects.values("external_id").distinct().count() == count
    acme = Account.objects.get(primary_domain="acme.example")
    assert Conversation.objects.filter(account=acme, requester__isnull=False).count() == count
    assert Contact.objects.count() == 40
    assert acme.contact_count == 40


def assert_nothing_processed(count: int) -> None:
    assert set(InboundEvent.objects.values_list("status", "attempts")) == {("pending", 0)}
    assert InboundEvent.objects.count() == count
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not MappingDecision.objects.exists()
    assert not Contact.objects.exists()
    # The claimed task never finishes: recovery goes by the events, not by task rows.
    assert the_task().status == TaskResultStatus.RUNNING


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the row-lock variant")
def test_a_worker_killed_while_waiting_inside_its_batch_loses_nothing_on_postgresql(
    worker_env: dict[str, str],
) -> None:
    import psycopg

    acme = account_create(actor=None, name="Acme", primary_domain="acme.example")
    count = 200
    inbound_events_store_many(Source.API, tickets(count))
    assert the_task().status == TaskResultStatus.READY
    params = connection.settings_dict
    server = {
        "dbname": params["NAME"],
        "user": params["USER"],
        "password": params["PASSWORD"] or None,
        "host": params["HOST"] or None,
        "port": params["PORT"] or None,
    }
    with psycopg.connect(**server) as holder, psycopg.connect(**server, autocommit=True) as watcher:
        # Activity statistics are a snapshot per transaction: watch from outside the holder's.
        holder.execute("SELECT id FROM accounts_account WHERE id = %s FOR UPDATE", [acme.pk])
        worker = subprocess.Popen(WORKER, cwd=ROOT, env=worker_env)
        try:
            # The worker's batch has written rows (its transaction has an id) and now waits
            # for the account row the test holds.
            [waiting] = wait_for(
                lambda: watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' "
                    "AND backend_xid IS NOT NULL"
                ).fetchone(),
                timeout=120,
                what="the worker to wait inside its batch",
            )
            assert the_task().status == TaskResultStatus.RUNNING
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=30) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            holder.rollback()
        # The server notices the lost client once the lock is free, and rolls back.
        wait_for(
            lambda: (
                not watcher.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [waiting]
                ).fetchone()
            ),
            timeout=60,
            what="the killed worker's session to end",
        )

    assert_nothing_processed(count)
    recover_with_a_new_worker(worker_env, count)
    assert_processed_exactly_once(count)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the write-lock variant")
def test_a_worker_killed_inside_its_batch_transaction_loses_nothing_on_sqlite(
    worker_env: dict[str, str],
) -> None:
    account_create(actor=None, name="Acme", primary_domain="acme.example")
    count = 3000
    # One task for all of them, so the batch transaction stays open long enough to see.
    inbound_events_store_many(Source.API, tickets(count), batch_size=count)
    assert the_task().status == TaskResultStatus.READY
    database = str(connection.settings_dict["NAME"])
    probe = sqlite3.connect(database, timeout=0, isolation_level=None)
    tasks, events = DBTaskResult._meta.db_table, InboundEvent._meta.db_table

    def write_lock_taken() -> bool:
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return True
        probe.execute("ROLLBACK")
        return False

    def batch_open() -> bool:
        """Say whether the worker is inside its batch: task claimed, nothing committed."""
        claimed = probe.execute(f"SELECT status FROM {tasks}").fetchone() == ("RUNNING",)  # noqa: S608
        pending = probe.execute(
            f"SELECT COUNT(*) FROM {events} WHERE status = 'pending'"  # noqa: S608
        ).fetchone() == (count,)
        return claimed and pending and write_lock_taken()

    worker = subprocess.Popen(WORKER, cwd=ROOT, env=worker_env)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline, "never caught the worker inside its batch"
            assert worker.poll() is None
            if not batch_open():
                time.sleep(0.001)
                continue
            worker.send_signal(signal.SIGSTOP)
            if batch_open():  # still true with the worker frozen: kill it there
                worker.send_signal(signal.SIGKILL)
                break
            worker.send_signal(signal.SIGCONT)
        assert worker.wait(timeout=30) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    # The dead process's lock is gone, and its uncommitted writes with it.
    assert not write_lock_taken()
    probe.close()

    assert_nothing_processed(count)
    recover_with_a_new_worker(worker_env, count)
    assert_processed_exactly_once(count)

"""One run at a time of a job, across worker processes, without holding the write lock.

A job that reads and plans first, then writes in several short transactions (triage),
still needs its runs one after another when its decisions depend on order. On
PostgreSQL an advisory lock held by the session gives that turn; SQLite lives on one
machine, so a lock file beside the database does (the same kind of lock as its write
lock, under the job's name). Inside a transaction that already writes, SQLite's write
lock keeps every other writer out for the whole job anyway.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

# How long a thread of the same process waits for the turn before giving up; another
# process's run is waited for in the kernel, as long as it takes.
TURN_TIMEOUT_SECONDS = 300.0


@contextmanager
def job_turn(name: str, key: int, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Hold the turn of the job *name* (advisory lock *key* on PostgreSQL) meanwhile."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            yield
        finally:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                pass  # the session is gone, and its advisory locks went with it
        return
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    from rapport.core.sqlite.base import write_lock_for

    database = str(connection.settings_dict["NAME"])
    lock = write_lock_for(f"{database}-{name}", in_memory=connection.is_in_memory_db())  # type: ignore[attr-defined]
    lock.acquire(TURN_TIMEOUT_SECONDS)
    try:
        yield
    finally:
        lock.release()

"""SQLite with a write lock that writers queue on, instead of polling for it.

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps
1, 2, 5 ... up to 100 ms between tries. With many writers the lock sits free between their
naps, throughput falls and the unlucky ones run out of time ("database is locked") while
others get in ahead of them. Here each write transaction first takes Rapport's own write
lock: a mutex for the threads of one process, then an advisory file lock beside the
database for the processes (web, worker, scheduler, SMTP listener). Waiters wake the
moment it is free.
Threads wait for the mutex up to the connection's busy timeout; past it the writer gets
the usual "database is locked" OperationalError, which the web tier answers with 503 and
Retry-After. The one thread per process that holds the mutex then waits for the file lock
in the kernel, which wakes it the moment another process lets go. Reads take no lock
(WAL readers never wait for the writer).

A tool outside Rapport that holds SQLite's own lock (a backup) is still waited for by
SQLite's busy handler, inside the transaction that holds Rapport's lock.
"""

import fcntl
import functools
import os
import re
import threading
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class WriteLock:
    """One database file's write lock, shared by the threads of this process."""

    def __init__(self, path: str | None) -> None:
        # None: a shared in-memory database, which only this process's threads can open.
        self.path = f"{path}-writelock" if path else None
        self.mutex = threading.Lock()
        self.fd: int | None = None
        self.pid = 0

    def _descriptor(self) -> int | None:
        if self.path is None:
            return None
        # A process forked after the first use (gunicorn workers) opens its own.
        if self.fd is None or self.pid != os.getpid():
            try:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:  # the database's folder is gone or read-only: an outage
                raise OperationalError(f"unable to open the write lock {self.path}: {exc}") from exc
            self.pid = os.getpid()
        return self.fd

    def acquire(self, timeout: float) -> None:
        if not self.mutex.acquire(timeout=max(timeout, 0.001)):
            raise OperationalError(f"database is locked (no write turn in {timeout:.0f} s)")
        try:
            fd = self._descriptor()
            if fd is None:
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                # Another process writes: sleep in the kernel until it is done (the GIL is
                # released meanwhile). Its turn is bounded by its own busy timeout.
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self.mutex.release()
            raise

    def release(self) -> None:
        try:
            if self.fd is not None and self.pid == os.getpid():
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.mutex.release()


_LOCKS: dict[str, WriteLock] = {}
_LOCKS_GUARD = threading.Lock()


def write_lock_for(name: str, *, in_memory: bool = False) -> WriteLock:
    """The lock of the database file *name*, or of the in-memory database *name*."""
    key = name if in_memory else os.path.abspath(name)
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = WriteLock(None if in_memory else key)
        return lock


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's SQLite backend, with writers queued on Rapport's write lock.

    Connections are kept between requests (opening one costs more than a ticket's
    queries). A kept connection goes on reading and writing the file it opened even
    after that file was moved or replaced (a restored backup), so the health check that
    runs before a request's first query compares the file at the database's path with
    the one opened, and reconnects when they differ.
    """

    write_lock_held = False
    _opened_file: tuple[int, int] | None = None

    _write_lock_name: str | None = None
    _write_lock_found: WriteLock | None = None

    @property
    def _write_lock(self) -> WriteLock | None:
        """The database file's lock, looked up again only when the name changes (the test
        runner renames the database after connections exist)."""
        name = str(self.settings_dict["NAME"])
        if name != self._write_lock_name:
            # A shared in-memory database (the tests') is shared by threads: a shared
            # cache answers "locked" at once instead of waiting, so they queue here too.
            lock = write_lock_for(name, in_memory=self.is_in_memory_db()) if name else None
            self._write_lock_found, self._write_lock_name = lock, name
        return self._write_lock_found

    def get_new_connection(self, conn_params: Any) -> Any:
        connection = super().get_new_connection(conn_params)
        self._opened_file = self._file_identity()
        return connection

    def _file_identity(self) -> tuple[int, int] | None:
        """Return (device, inode) of the database file, None in memory or when it is gone."""
        if self.is_in_memory_db():
            return None
        try:
            found = os.stat(str(self.settings_dict["NAME"]))
        except OSError:
            return None
        return (found.st_dev, found.st_ino)

    def is_usable(self) -> bool:
        if self.is_in_memory_db():
            return True
        identity = self._file_identity()
        return identity is not None and identity == self._opened_file

    def _lock_timeout(self) -> float:
        return float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))

    def _write_lock_take(self) -> None:
        lock = self._write_lock
        if lock is not None and not self.write_lock_held:
            lock.acquire(self._lock_timeout())
            self.write_lock_held = True

    def _write_lock_give(self) -> None:
        if self.write_lock_held:
            self.write_lock_held = False
            lock = self._write_lock
            if lock is not None:
                lock.release()

    def _start_transaction_under_autocommit(self) -> None:
        # DEFERRED transactions may only read: they take no turn.
        if self.transaction_mode not in (None, "DEFERRED"):  # type: ignore[attr-defined]
            self._write_lock_take()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._write_lock_give()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._write_lock_give()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._write_lock_give()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._write_lock_give()

    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(factory=functools.partial(LockingCursor, wrapper=self))


class LockingCursor(base.SQLiteCursorWrapper):
    """A write outside a transaction (autocommit) also waits for its turn."""

    def __init__(self, connection: Any, wrapper: DatabaseWrapper) -> None:
        super().__init__(connection)
        self.wrapper = wrapper

    def _needs_turn(self, query: str) -> bool:
        return (
            not self.wrapper.write_lock_held
            and not self.connection.in_transaction
            and _WRITE.match(query) is not None
        )

    def execute(self, query: str, params: Any = None) -> Any:
        if not self._needs_turn(query):
            return super().execute(query, params)
        self.wrapper._write_lock_take()
        try:
            return super().execute(query, params)
        finally:
            self.wrapper._write_lock_give()

    def executemany(self, query: str, param_list: Any) -> Any:
        if not self._needs_turn(query):
            return super().executemany(query, param_list)
        self.wrapper._write_lock_take()
        try:
            return super().executemany(query, param_list)
        finally:
            self.wrapper._write_lock_give()

"""The task worker: django-tasks-db's worker, made to survive a database outage.

The library's worker dies on the first database error outside a locked SQLite file, and a
task interrupted by an outage is recorded as failed. Rapport's worker instead logs, waits
with backoff and resumes when the database is back; a task that hit the outage goes back
on the queue to run again. A separate thread records that the worker is alive, so a task
record left "running" by a worker that was killed is found and put back on the queue by
the next worker that looks (`task_runs_recover`).
"""

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from django.db import DatabaseError, close_old_connections, connections
from django.tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from rapport.ops.outage import Backoff, database_unavailable
from rapport.ops.services import heartbeat_beat, heartbeats_prune, task_runs_recover

logger = logging.getLogger("rapport.worker")

BEAT_SECONDS = 5.0
# How often a worker looks for runs abandoned by a worker that stopped beating, and how
# long a silent worker counts as alive (three missed beats).
RECOVER_SECONDS = 10.0
ALIVE_WITHIN = 3 * BEAT_SECONDS
# A task that meets the outage this many times in a row is recorded as failed after all,
# so a task whose own query is broken cannot loop forever.
MAX_OUTAGE_REQUEUES = 20


def runs_recover() -> None:
    """Put back the task runs of workers that stopped beating, and forget old workers."""
    recovered = task_runs_recover(alive_within=ALIVE_WITHIN)
    if recovered:
        logger.warning(
            "Put %d task run(s) abandoned by a stopped worker back on the queue.", recovered
        )
    heartbeats_prune()


class LivenessThread(threading.Thread):
    """Record every few seconds that this worker is alive, whatever task it is running,
    and look for task runs that a stopped worker abandoned."""

    def __init__(self, worker_id: str, stop: threading.Event) -> None:
        super().__init__(name="worker-liveness", daemon=True)
        self.worker_id = worker_id
        self.stop = stop

    def run(self) -> None:
        failing = False
        next_recover = 0.0
        while not self.stop.is_set():
            try:
                # A kept connection is checked again (the database file may have moved).
                close_old_connections()
                heartbeat_beat("worker")
                heartbeat_beat(f"worker:{self.worker_id}")
                if time.monotonic() >= next_recover:
                    runs_recover()
                    next_recover = time.monotonic() + RECOVER_SECONDS
                if failing:
                    logger.info("Worker heartbeat recorded again.")
                failing = False
            except DatabaseError as exc:
                if not failing:
                    logger.warning("Worker heartbeat not recorded (database unavailable): %s", exc)
                failing = True
                close_old_connections()
            self.stop.wait(BEAT_SECONDS)
        # This thread's own connection: nothing else would close it (a persistent one
        # is not "old" yet), and it would hold the database open after the worker ends.
        with contextlib.suppress(DatabaseError):
            connections.close_all()


class ResilientWorker(Worker):
    """A worker that waits out database outages and recovers abandoned task runs."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.outage_requeues: Counter[str] = Counter()
        self.backoff = Backoff()

    def run(self) -> None:
        stop = threading.Event()
        liveness = LivenessThread(self.worker_id, stop)
        liveness.start()
        try:
            while self.running:
                try:
                    super().run()
                    return  # batch or max-tasks: the library's loop ended on its own
                except DatabaseError as exc:
                    if not database_unavailable(exc):
                        raise
                    self._wait_out(exc)
        finally:
            stop.set()
            # Let a beat in progress finish, so the worker ends with no write under way.
            liveness.join(timeout=BEAT_SECONDS)

    def _wait_out(self, exc: BaseException) -> None:
        wait = self.backoff.next()
        logger.warning("Database unavailable (%s); the worker retries in %.1f s.", exc, wait)
        with contextlib.suppress(DatabaseError):
            close_old_connections()
        deadline = time.monotonic() + wait
        while self.running and time.monotonic() < deadline:
            time.sleep(0.1)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """Run one task; if the database went away under it, queue it again.

        A task whose work committed but whose success could not be recorded is not run
        again: recording the success waits for the database instead.
        """
        self.backoff.reset()
        original_set_failed = db_task_result.set_failed
        original_set_successful = db_task_result.set_successful
        outage: list[BaseException] = []

        def set_failed(exc: BaseException) -> None:
            key = str(db_task_result.id)
            if database_unavailable(exc) and self.outage_requeues[key] < MAX_OUTAGE_REQUEUES:
                self.outage_requeues[key] += 1
                outage.append(exc)
                return
            self.outage_requeues.pop(key, None)
            self._until_recorded(lambda: original_set_failed(exc))

        def set_successful(return_value: object) -> None:
            self._until_recorded(lambda: original_set_successful(return_value))

        db_task_result.set_failed = set_failed
        db_task_result.set_successful = set_successful
        super().run_task(db_task_result)
        if outage:
            logger.warning(
                "Task %s (%s) met a database outage; it goes back on the queue: %s",
                db_task_result.id,
                db_task_result.task_path,
                outage[0],
            )
            self._until_recorded(lambda: self._requeue(db_task_result))
        else:
            self.outage_requeues.pop(str(db_task_result.id), None)

    def _until_recorded(self, write: Callable[[], None]) -> None:
        """Make *write* once the database answers; give up only when stopping.

        A worker stopped during an outage leaves the record "running"; the next worker
        recovers it.
        """
        while True:
            try:
                write()
                return
            except DatabaseError as exc:
                if not database_unavailable(exc) or not self.running:
                    raise
                self._wait_out(exc)

    @staticmethod
    def _requeue(db_task_result: DBTaskResult) -> None:
        DBTaskResult.objects.filter(id=db_task_result.id, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.READY, started_at=None
        )

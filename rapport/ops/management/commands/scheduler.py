import contextlib
import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections

from rapport.ops.outage import Backoff, database_unavailable
from rapport.ops.services import scheduled_job_run_due
from rapport.schedule import JOBS

logger = logging.getLogger("rapport.scheduler")


class Command(BaseCommand):
    help = "Enqueue periodic jobs from rapport/schedule.py when they are due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between checks.")
        parser.add_argument("--once", action="store_true", help="Check once and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        running = True

        def stop(signum: int, frame: object) -> None:
            nonlocal running
            running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"Scheduler running {len(JOBS)} jobs.")
        backoff = Backoff()
        outage = False
        while running:
            wait = options["interval"]
            try:
                close_old_connections()
                for name in scheduled_job_run_due(JOBS):
                    self.stdout.write(f"Enqueued {name}")
                if outage:
                    logger.info("Database available again; the scheduler resumes.")
                outage = False
                backoff.reset()
            except DatabaseError as exc:
                if not database_unavailable(exc):
                    raise
                # Wait the outage out: the jobs due meanwhile run once it is over.
                wait = backoff.next()
                outage = True
                logger.warning(
                    "Database unavailable (%s); the scheduler retries in %.1f s.", exc, wait
                )
                with contextlib.suppress(DatabaseError):
                    close_old_connections()
            if options["once"]:
                break
            deadline = time.monotonic() + wait
            while running and time.monotonic() < deadline:
                time.sleep(0.2)

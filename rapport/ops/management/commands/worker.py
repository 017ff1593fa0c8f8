import logging
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django_tasks_db.compat import TASKS_LOGGER
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from rapport.ops.models import Heartbeat
from rapport.ops.services import WORKER_BEAT_PREFIX
from rapport.ops.worker import ResilientWorker


class Command(DatabaseWorkerCommand):
    help = (
        "Run Rapport's task worker: takes tasks off the database queue, waits out database "
        "outages and puts back the task runs a killed worker left behind."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(reload=False)

    def configure_logging(self, verbosity: int) -> None:
        """Log through Rapport's handlers; each task's start and end only with -v 2."""
        level = logging.DEBUG if verbosity >= 2 else logging.WARNING
        if verbosity == 0:
            level = logging.CRITICAL
        for name in (TASKS_LOGGER, "django_tasks_db"):
            logging.getLogger(name).setLevel(level)

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        if options["reload"]:
            raise CommandError("The worker does not reload; `make dev` restarts it.")
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        # The worker records that it is alive as `worker:<id>`; a longer name would not
        # fit, and its runs would be taken from it as abandoned while it runs them.
        longest = (Heartbeat._meta.get_field("name").max_length or 0) - len(WORKER_BEAT_PREFIX)
        if len(options["worker_id"]) > longest:
            raise CommandError(f"--worker-id can be at most {longest} characters long.")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.run()

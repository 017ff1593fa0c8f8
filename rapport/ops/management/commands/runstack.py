import logging
import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from rapport.ops.supervisor import Supervisor


class Command(BaseCommand):
    help = (
        "Run Rapport: the web server (gunicorn, or Django's development server with --dev), "
        "the task worker, the scheduler, the SMTP listener and, with SLACK_APP_TOKEN, the "
        "Slack Socket Mode client, under a supervisor that restarts any child that dies. "
        "Ctrl-C stops all of them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--dev",
            action="store_true",
            help="Serve with Django's development server, which reloads on code changes.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", "4")),
            help="Web server processes (WEB_CONCURRENCY; default 4).",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("WEB_THREADS", "16")),
            help="Threads per web server process (WEB_THREADS; default 16).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        manage = [sys.executable, "manage.py"]
        address = f"{options['host']}:{options['port']}"
        if options["dev"]:
            web = [*manage, "runserver", address]
        else:
            # whitenoise serves the collected static files from the web processes.
            call_command("collectstatic", interactive=False, verbosity=0)
            web = [
                sys.executable,
                "-m",
                "gunicorn",
                "rapport.wsgi:application",
                "--bind",
                address,
                "--worker-class",
                "gthread",
                "--workers",
                str(options["workers"]),
                "--threads",
                str(options["threads"]),
                # A request waiting out SQLite's busy timeout must not get its process killed.
                "--timeout",
                "60",
                "--graceful-timeout",
                "10",
                "--backlog",
                "2048",
            ]
        commands = {
            "web": web,
            "worker": [*manage, "worker", "--no-startup-delay", "--interval", "0.2"],
            "scheduler": [*manage, "scheduler"],
            # Customer email on SMTP_HOST:SMTP_PORT (127.0.0.1:2525 unless set).
            "smtp": [*manage, "smtp_listener"],
        }
        if settings.SLACK_APP_TOKEN:
            # Slack events over Socket Mode, for installs Slack cannot reach over HTTP.
            commands["slack"] = [*manage, "slack_socket_mode"]
        # The children read the port too: links Rapport generates use it unless SITE_URL is set.
        env = {"PORT": str(options["port"])}
        if not options["dev"] and "DEBUG" not in os.environ:
            # DEBUG keeps every query in memory and shows tracebacks to visitors: the
            # production-grade server runs without it unless asked.
            env["DEBUG"] = "0"
        supervisor = Supervisor(commands, env=env)
        self.stdout.write(f"Rapport is running at http://{address}/ (Ctrl-C to stop)")
        supervisor.run()
        self.stdout.write("Rapport stopped.")

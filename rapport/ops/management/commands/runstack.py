import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Run the web server, the task worker, the scheduler and the SMTP listener together; "
        "Ctrl-C stops all of them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, "manage.py"]
        address = f"{options['host']}:{options['port']}"
        commands = {
            "web": [*manage, "runserver", "--noreload", address],
            "worker": [*manage, "db_worker", "--no-startup-delay", "--interval", "0.5"],
            "scheduler": [*manage, "scheduler"],
            # Customer email on SMTP_HOST:SMTP_PORT (127.0.0.1:2525 unless set).
            "smtp": [*manage, "smtp_listener"],
        }
        if settings.SLACK_APP_TOKEN:
            # Slack events over Socket Mode, for installs Slack cannot reach over HTTP.
            commands["slack"] = [*manage, "slack_socket_mode"]
        processes: dict[str, subprocess.Popen[bytes]] = {}
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for name, command in commands.items():
            # Own process group: the terminal's Ctrl-C reaches only this supervisor,
            # which then stops the children in order.
            processes[name] = subprocess.Popen(command, start_new_session=True)  # noqa: S603
        self.stdout.write(f"Rapport is running at http://{address}/ (Ctrl-C to stop)")
        exit_code = 0
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping.")
                        exit_code = process.returncode or 1
                        stopping = True
                        break
                time.sleep(0.3)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in processes.values():
                remaining = max(0.1, deadline - time.monotonic())
                try:
                    process.wait(timeout=remaining)
                except subprocess.TimeoutExpired:
                    process.kill()
            self.stdout.write("Rapport stopped.")
        if exit_code:
            sys.exit(exit_code)

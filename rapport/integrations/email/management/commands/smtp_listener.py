import logging
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from rapport.integrations.email.smtp import EmailSMTPListener


class Command(BaseCommand):
    help = (
        "Receive customer email over SMTP for any recipient and store each message for the "
        "worker. SIGINT or SIGTERM stops it after the messages being stored are stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default=settings.SMTP_HOST, help="Address to listen on (SMTP_HOST)."
        )
        parser.add_argument(
            "--port", type=int, default=settings.SMTP_PORT, help="Port to listen on (SMTP_PORT)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verbosity"] < 2:
            # aiosmtpd logs every connection and command at INFO; Rapport logs each
            # stored message itself.
            logging.getLogger("mail.log").setLevel(logging.WARNING)
        stopping = threading.Event()

        def stop(signum: int, frame: object) -> None:
            stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        listener = EmailSMTPListener(options["host"], options["port"])
        listener.start()
        self.stdout.write(f"Receiving email on {options['host']}:{options['port']}")
        try:
            while not stopping.wait(1.0):
                pass
        finally:
            listener.stop()
            self.stdout.write("SMTP listener stopped.")

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from slack_bolt.adapter.django.handler import (
    DjangoListenerCompletionHandler,
    DjangoListenerStartHandler,
)
from slack_bolt.adapter.socket_mode import SocketModeHandler

from rapport.integrations.slack.bolt import slack_app


class Command(BaseCommand):
    help = (
        "Receive Slack events over Socket Mode instead of the public Events API endpoint "
        "(needs SLACK_APP_TOKEN, an app-level token with connections:write)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        token = settings.SLACK_APP_TOKEN
        if not token:
            raise CommandError(
                "SLACK_APP_TOKEN is not set. Create an app-level token with the "
                "connections:write scope in the Slack app's settings and set SLACK_APP_TOKEN, "
                "or receive events over HTTP at /integrations/slack/events instead."
            )
        if not token.startswith("xapp-"):
            raise CommandError("SLACK_APP_TOKEN must be an app-level token (it starts with xapp-).")
        app = slack_app()
        # Listeners run on the Socket Mode client's threads, outside any Django request:
        # release their database connections the way a request would.
        app.listener_runner.listener_start_handler = DjangoListenerStartHandler()
        app.listener_runner.listener_completion_handler = DjangoListenerCompletionHandler()
        handler = SocketModeHandler(app, app_token=token)
        stopped = threading.Event()

        def stop(signum: int, frame: object) -> None:
            stopped.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        handler.connect()
        self.stdout.write("Receiving Slack events over Socket Mode (Ctrl-C to stop).")
        try:
            stopped.wait()
        finally:
            handler.close()
            self.stdout.write("Socket Mode stopped.")

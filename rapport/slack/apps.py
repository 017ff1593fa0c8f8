from django.apps import AppConfig


class SlackConfig(AppConfig):
    name = "rapport.slack"
    label = "slack"
    verbose_name = "Slack"

    def ready(self) -> None:
        # Register the "slack" normalizer with the ingest path, and the slack.* outbox
        # handlers (request cards, emoji, DMs, surveys).
        from rapport.slack import normalize, outbox_handlers  # noqa: F401

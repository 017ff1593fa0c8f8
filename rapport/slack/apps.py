from django.apps import AppConfig


class SlackConfig(AppConfig):
    name = "rapport.slack"
    label = "slack"
    verbose_name = "Slack"

    def ready(self) -> None:
        # Registers the "slack" normalizer with the ingest path.
        from rapport.slack import normalize  # noqa: F401

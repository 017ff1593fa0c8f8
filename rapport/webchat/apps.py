from django.apps import AppConfig


class WebchatConfig(AppConfig):
    name = "rapport.webchat"
    label = "webchat"
    verbose_name = "Web chat"

    def ready(self) -> None:
        # Register the web chat normalizer with the ingest path.
        from rapport.webchat import normalizer  # noqa: F401

from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "rapport.outbox"
    label = "outbox"
    verbose_name = "Outbox"

    def ready(self) -> None:
        # Register the handlers this app owns; other apps register theirs in ready().
        from rapport.outbox import email  # noqa: F401

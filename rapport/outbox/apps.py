from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "rapport.outbox"
    label = "outbox"
    verbose_name = "Outbox"

from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "rapport.outbox"
    label = "outbox"
    verbose_name = "Outbox"

    def ready(self) -> None:
        from rapport.core.settings_menu import settings_page_register

        settings_page_register(
            "deliveries",
            title="Outbound delivery",
            url_name="outbox:deliveries",
            section="Integrations",
            description="Replies, Slack posts, emails and webhooks queued, retrying or failed.",
            admin_only=True,
            order=110,
        )

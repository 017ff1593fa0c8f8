from django.apps import AppConfig


class ApiChannelConfig(AppConfig):
    name = "rapport.integrations.api"
    label = "api_channel"
    verbose_name = "API tickets and webhooks"

    def ready(self) -> None:
        from rapport.core.settings_menu import settings_page_register

        settings_page_register(
            "webhook",
            title="Outbound webhook",
            url_name="api_channel:webhook",
            section="Integrations",
            description="Where Rapport posts replies to API conversations, and its signing secret.",
            admin_only=True,
        )

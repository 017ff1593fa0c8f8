from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "rapport.integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from rapport.core.settings_menu import settings_page_register
        from rapport.integrations.registry import integrations_register

        integrations_register()
        settings_page_register(
            "integrations",
            title="Integrations",
            url_name="integrations:list",
            section="Integrations",
            description="Each integration's state, its last error, what waits, and a test.",
            admin_only=True,
            order=10,
        )

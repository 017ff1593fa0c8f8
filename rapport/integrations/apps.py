from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "rapport.integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from rapport.integrations.registry import integrations_register

        integrations_register()

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "rapport.metrics"
    label = "metrics"
    verbose_name = "Request metrics and SLAs"

    def ready(self) -> None:
        from rapport.core.settings_menu import settings_page_register

        settings_page_register(
            "sla",
            title="SLA policies",
            url_name="metrics:sla_policies",
            section="Requests",
            description="First response and resolution targets per account tier.",
            admin_only=False,
        )

from django.apps import AppConfig


class MappingConfig(AppConfig):
    name = "rapport.mapping"
    label = "mapping"
    verbose_name = "Account mapping"

    def ready(self) -> None:
        from rapport.core.settings_menu import settings_page_register

        settings_page_register(
            "mapping",
            title="Account mapping",
            url_name="mapping:settings",
            section="Workspace",
            description="Automatic account creation and public mail domains.",
            admin_only=True,
        )

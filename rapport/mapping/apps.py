from django.apps import AppConfig


class MappingConfig(AppConfig):
    name = "rapport.mapping"
    label = "mapping"
    verbose_name = "Account mapping"

    def ready(self) -> None:
        from rapport.accounts.domains import primary_domain_check_register
        from rapport.core.settings_menu import settings_page_register
        from rapport.mapping.selectors import public_domain_refusal

        primary_domain_check_register(public_domain_refusal)

        settings_page_register(
            "mapping",
            title="Account mapping",
            url_name="mapping:settings",
            section="Workspace",
            description="Automatic account creation and public mail domains.",
            admin_only=True,
        )

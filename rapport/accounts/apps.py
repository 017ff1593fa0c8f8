from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rapport.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from rapport.core.settings_menu import settings_page_register

        settings_page_register(
            "fields",
            title="Fields",
            url_name="accounts:fields",
            section="Workspace",
            description="Rapport fields on every account, and which CRM fields show.",
            admin_only=True,
        )

from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "rapport.users"
    label = "users"
    verbose_name = "Users and teams"

    def ready(self) -> None:
        from rapport.core.settings_menu import settings_page_register

        settings_page_register(
            "team",
            title="Team",
            url_name="users:team",
            section="Team",
            description="Members, their roles and Slack ids; invite people by email.",
            admin_only=True,
            order=10,
        )
        settings_page_register(
            "tokens",
            title="API tokens",
            url_name="users:tokens",
            section="Team",
            description="Your personal tokens for the JSON API: create, see last use, revoke.",
            admin_only=False,
            order=20,
        )

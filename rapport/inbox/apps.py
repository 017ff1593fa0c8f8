from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "rapport.inbox"
    label = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from rapport.core.settings_menu import settings_page_register

        settings_page_register(
            "channels",
            title="Slack channels",
            url_name="inbox:channels",
            section="Channels",
            description="Customer channels, the accounts each is linked to, and their CSM.",
            admin_only=False,
        )

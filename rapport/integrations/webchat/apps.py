from django.apps import AppConfig


class WebchatConfig(AppConfig):
    name = "rapport.integrations.webchat"
    label = "webchat"
    verbose_name = "Web chat"

    def ready(self) -> None:
        from rapport.core.settings_menu import settings_page_register

        settings_page_register(
            "webchat_sites",
            title="Web chat sites",
            url_name="webchat:sites",
            section="Channels",
            description="Websites that embed the chat widget: origins, snippet, verified visitors.",
            admin_only=True,
        )

from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "rapport.requests"
    label = "requests"
    verbose_name = "Requests"

    def ready(self) -> None:
        from rapport.core.settings_menu import settings_page_register

        settings_page_register(
            "requests",
            title="Request settings",
            url_name="requests:settings",
            section="Requests",
            description="Detection, automations, assignment and CSAT, per workspace and channel.",
            admin_only=False,
        )
        # New customer messages are queued for triage in the transaction that stores them.
        from rapport.inbox.batch import message_hook_register
        from rapport.requests.triage import messages_queue

        message_hook_register(messages_queue)

from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "rapport.requests"
    label = "requests"
    verbose_name = "Requests"

    def ready(self) -> None:
        # New customer messages are queued for triage in the transaction that stores them.
        from rapport.inbox.batch import message_hook_register
        from rapport.requests.triage import messages_queue

        message_hook_register(messages_queue)

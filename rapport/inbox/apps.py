from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "rapport.inbox"
    label = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        # Register the normalizers of the channels this app owns.
        from rapport.inbox.channels import api, email  # noqa: F401

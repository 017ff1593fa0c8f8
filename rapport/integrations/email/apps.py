from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "rapport.integrations.email"
    label = "email_channel"
    verbose_name = "Email"

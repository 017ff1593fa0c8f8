from django.apps import AppConfig


class ApiChannelConfig(AppConfig):
    name = "rapport.integrations.api"
    label = "api_channel"
    verbose_name = "API tickets and webhooks"

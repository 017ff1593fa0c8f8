from django.apps import AppConfig


class WebchatConfig(AppConfig):
    name = "rapport.integrations.webchat"
    label = "webchat"
    verbose_name = "Web chat"

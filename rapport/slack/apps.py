from django.apps import AppConfig


class SlackConfig(AppConfig):
    name = "rapport.slack"
    label = "slack"
    verbose_name = "Slack"

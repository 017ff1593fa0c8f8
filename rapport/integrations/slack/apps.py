from django.apps import AppConfig


class SlackConfig(AppConfig):
    name = "rapport.integrations.slack"
    label = "slack"
    verbose_name = "Slack"

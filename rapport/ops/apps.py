from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "rapport.ops"
    label = "ops"
    verbose_name = "Operations"

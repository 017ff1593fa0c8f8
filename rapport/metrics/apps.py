from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "rapport.metrics"
    label = "metrics"
    verbose_name = "Request metrics and SLAs"

from django.apps import AppConfig


class MappingConfig(AppConfig):
    name = "rapport.mapping"
    label = "mapping"
    verbose_name = "Account mapping"

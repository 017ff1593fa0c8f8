from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: errors, query parameters, pages, the web kit, template filters.

    It has no models, and imports no other Rapport app.
    """

    name = "rapport.core"
    label = "core"
    verbose_name = "Core"

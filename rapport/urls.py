from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from rapport.accounts import urls as account_urls
from rapport.api import api
from rapport.core.views import SettingsIndexView
from rapport.directory import urls as directory_urls
from rapport.ops.views import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounts:list", permanent=False), name="home"),
    path("", include("rapport.users.urls")),
    # The accounts section: the directory and the account pages, one URL namespace.
    path(
        "accounts/",
        include((directory_urls.urlpatterns + account_urls.urlpatterns, "accounts")),
    ),
    path("settings/", SettingsIndexView.as_view(), name="settings"),
    path("api/v1/", api.urls),
    path("inbox/", include("rapport.inbox.urls")),
    path("mapping/", include("rapport.mapping.urls")),
    path("requests/", include("rapport.requests.urls")),
    path("", include("rapport.onboarding.urls")),
    path("imports/", include("rapport.imports.urls")),
    path("metrics/", include("rapport.metrics.urls")),
    path("integrations/slack/", include("rapport.integrations.slack.urls")),
    path("integrations/api/", include("rapport.integrations.api.urls")),
    path("integrations/deliveries/", include("rapport.outbox.urls")),
    path("integrations/", include("rapport.integrations.urls")),
    path("webchat/", include("rapport.integrations.webchat.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler500 = "rapport.ops.middleware.server_error"

"""Web chat URLs, under /webchat/: the widget script, the public chat API, the sites page."""

from django.urls import path

from rapport.integrations.webchat import pages, views

app_name = "webchat"
urlpatterns = [
    path("<str:public_key>/widget.js", views.widget_script, name="widget"),
    path("api/<str:public_key>/visitors", views.visitor_start, name="visitors"),
    path("api/<str:public_key>/messages", views.chat_messages, name="messages"),
    # The admins' settings pages; a public key never looks like "sites".
    path("sites/", pages.ChatSiteListView.as_view(), name="sites"),
    path("sites/<int:pk>/", pages.ChatSiteDetailView.as_view(), name="site"),
    path(
        "sites/<int:pk>/rotate-secret/",
        pages.ChatSiteSecretRotateView.as_view(),
        name="site_secret_rotate",
    ),
]

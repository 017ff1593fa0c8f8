from django.urls import path

from rapport.integrations.api import views

app_name = "api_channel"
urlpatterns = [
    path("webhook/", views.OutboundWebhookView.as_view(), name="webhook"),
]

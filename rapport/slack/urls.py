from django.urls import path

from rapport.slack import views

app_name = "slack"
urlpatterns = [
    path("events", views.slack_events, name="events"),
]

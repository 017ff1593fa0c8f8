from django.urls import path

from rapport.integrations.slack import views

app_name = "slack"
urlpatterns = [
    path("events", views.slack_events, name="events"),
    # One Bolt app answers all three; separate addresses keep Slack's settings readable.
    path("actions", views.slack_events, name="actions"),
    path("commands", views.slack_events, name="commands"),
]

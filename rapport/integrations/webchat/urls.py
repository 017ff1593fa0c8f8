"""Web chat URLs, under /webchat/: the widget script and the public chat API."""

from django.urls import path

from rapport.integrations.webchat import views

app_name = "webchat"
urlpatterns = [
    path("<str:public_key>/widget.js", views.widget_script, name="widget"),
    path("api/<str:public_key>/visitors", views.visitor_start, name="visitors"),
    path("api/<str:public_key>/messages", views.chat_messages, name="messages"),
]

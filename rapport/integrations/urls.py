from django.urls import path

from rapport.integrations import views

app_name = "integrations"
urlpatterns = [
    path("", views.IntegrationListView.as_view(), name="list"),
    path("<slug:key>/test", views.IntegrationTestView.as_view(), name="test"),
]

from django.urls import path

from rapport.metrics import views

app_name = "metrics"
urlpatterns = [
    path("sla/", views.SlaPolicyListView.as_view(), name="sla_policies"),
    path("sla/<int:pk>/", views.SlaPolicyUpdateView.as_view(), name="sla_policy_update"),
    path("sla/<int:pk>/delete/", views.SlaPolicyDeleteView.as_view(), name="sla_policy_delete"),
]

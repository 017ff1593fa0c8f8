from django.urls import path

from rapport.outbox import views

app_name = "outbox"
urlpatterns = [
    path("", views.DeliveryListView.as_view(), name="deliveries"),
    path("<int:pk>/retry", views.DeliveryRetryView.as_view(), name="retry"),
]

from django.contrib.auth import views as auth_views
from django.urls import path

from rapport.users.views import UserLoginView

app_name = "users"
urlpatterns = [
    path("login/", UserLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView


class UserLoginForm(AuthenticationForm):
    """Email and password."""

    error_messages = {
        "invalid_login": "That email and password do not match a Rapport account.",
        "inactive": "This account is disabled.",
    }


class UserLoginView(LoginView):
    template_name = "users/login.html"
    authentication_form = UserLoginForm
    redirect_authenticated_user = True

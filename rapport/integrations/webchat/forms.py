"""Forms of the web chat sites page (and the Django admin): allowed origins one per line."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from rapport.core.errors import ServiceError
from rapport.integrations.webchat.origins import origins_normalize

ORIGINS_HELP = (
    "One origin per line, exactly as the browser shows it: scheme and host, and a port "
    "when it is not the default, such as https://www.acme-shop.example. Pages from any "
    "other origin cannot use the chat."
)
REQUIRE_VERIFIED_HELP = (
    "Only visitors whose email the site's backend signed (user_hash) can start a chat; "
    "anyone else is told to sign in. Leave it off on a public site: an unsigned email is "
    "then kept so the team can answer, marked unverified, and never made a contact or an "
    "account."
)


class OriginsField(forms.CharField):
    """Allowed origins typed one per line; cleans to the normalized list."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", ORIGINS_HELP)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4, "cols": 60}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        try:
            return origins_normalize(text.splitlines())
        except ServiceError as exc:
            raise ValidationError(exc.message) from None


class ChatSiteForm(forms.Form):
    """A site's settings: the values `chat_site_create` and `chat_site_update` take."""

    name = forms.CharField(max_length=100, label="Name")
    allowed_origins = OriginsField(label="Allowed origins")
    is_active = forms.BooleanField(
        required=False,
        initial=True,
        label="Chat is on",
        help_text="Off: the widget and the chat API of this site answer 404.",
    )
    require_verified = forms.BooleanField(
        required=False, label="Require verified visitors", help_text=REQUIRE_VERIFIED_HELP
    )

    @classmethod
    def for_site(cls, site: Any) -> "ChatSiteForm":
        return cls(
            initial={
                "name": site.name,
                "allowed_origins": site.allowed_origins,
                "is_active": site.is_active,
                "require_verified": site.require_verified,
            }
        )

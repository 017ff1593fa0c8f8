"""Web chat: the sites that embed Rapport's chat widget, and the visitors who use it."""

import secrets

from django.db import models

PUBLIC_KEY_PREFIX = "pk_"
IDENTITY_SECRET_PREFIX = "wcs_"  # noqa: S105 (a public prefix, not a secret)


def public_key_generate() -> str:
    """Return a new site key: public (it sits in the site's HTML), but not guessable."""
    return PUBLIC_KEY_PREFIX + secrets.token_urlsafe(18)


def identity_secret_generate() -> str:
    """Return a new identity secret: the key the site's backend signs visitor emails with."""
    return IDENTITY_SECRET_PREFIX + secrets.token_hex(32)


class ChatSite(models.Model):
    """A website that embeds the chat widget.

    The public key names the site in the widget's URLs. Only pages served from one of
    the allowed origins may talk to the chat API; browsers always send `Origin` on the
    widget's calls, so a copied snippet on another site is refused.

    The identity secret never leaves the site's backend: it signs the email of a
    signed-in visitor (`user_hash = hex(HMAC-SHA256(secret, email))`), which is how
    Rapport tells a verified visitor from anyone typing an address into the widget.
    Rapport keeps it in clear because it must compute the same HMAC.
    """

    name = models.CharField(max_length=100)
    public_key = models.CharField(
        max_length=40, unique=True, default=public_key_generate, editable=False
    )
    # Exact origins, normalized: ["https://www.acme-shop.example", "http://localhost:3000"].
    allowed_origins = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(
        default=True, help_text="An inactive site's widget and chat API answer 404."
    )
    identity_secret = models.CharField(
        max_length=80, default=identity_secret_generate, editable=False
    )
    identity_secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    require_verified = models.BooleanField(
        default=False,
        help_text="Only visitors whose email the site's backend signed may start a chat.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class ChatVisitor(models.Model):
    """Someone who started a chat on a site, known by the email they left.

    The browser holds a random token; only its SHA-256 is stored, so a database leak
    does not let anyone speak as a visitor. `verified` says the site's backend signed
    the email; otherwise it is only what the visitor typed.
    """

    site = models.ForeignKey(ChatSite, on_delete=models.CASCADE, related_name="visitors")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    verified = models.BooleanField(
        default=False, help_text="The site's backend signed the email (a valid user_hash)."
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    conversation = models.ForeignKey(
        "inbox.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set once the visitor's first message has been processed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["site", "-created_at"], name="chat_visitor_site_idx")]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def thread_key(self) -> str:
        """Name the visitor's conversation within the web chat source."""
        from rapport.integrations.webchat.ids import ChatThreadRef

        return str(ChatThreadRef(self.pk))

"""Workspace members, their teams and their personal API tokens."""

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class UserManager(BaseUserManager["User"]):
    """Create users keyed by normalized email."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> "User":
        """Find a user by email whatever its case, as emails are stored in lower case."""
        return self.get(email=(username or "").strip().lower())

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.update(role=Role.ADMIN, is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A workspace member: a CSM, support agent, team lead or admin."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    slack_user_id = models.CharField(
        max_length=32, blank=True, db_index=True, help_text="The member's Slack user id."
    )
    # Access is the role; this is a job: the members accounts can be assigned to as CSM.
    is_csm = models.BooleanField(
        "CSM", default=False, help_text="A customer success manager, who can be assigned accounts."
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the Django admin site.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ("name", "email")
        constraints = [
            # A Slack user is one member: Slack clicks and DMs find the member by this id.
            models.UniqueConstraint(
                fields=["slack_user_id"],
                condition=~Q(slack_user_id=""),
                name="users_user_slack_user_id_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Team(models.Model):
    """A group of members who share work, such as a support pod or a CS segment."""

    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise a token.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Invited"
    EXPIRED = "expired", "Expired"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


class Invitation(models.Model):
    """An invitation to join the workspace, emailed as a link; only its token's digest is kept.

    The link names this one invitation, works once, expires at `expires_at` and stops
    working when an admin revokes it or sends it again (which makes a new link).
    """

    email = models.EmailField()
    name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(help_text="When the current link was made and emailed.")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitation",
        help_text="The member who joined through it.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            # One open invitation per email: two admins inviting at once make one.
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="users_invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email}"

    @property
    def status(self) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= timezone.now():
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING


class LoginFailure(models.Model):
    """One failed sign-in (a wrong password or API token) from one client IP.

    Kept in the database so every server process counts the same failures; the
    scheduler deletes rows once they are older than the counting window.
    `email` is the normalized email tried, empty for a bad API token.
    """

    ip = models.CharField(max_length=64, help_text="The client IP (an IPv6 caller by its /64).")
    email = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["ip", "email", "created_at"], name="login_failure_pair_idx"),
            models.Index(fields=["ip", "created_at"], name="login_failure_ip_idx"),
            models.Index(fields=["created_at"], name="login_failure_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email or '(token)'} from {self.ip} at {self.created_at:%Y-%m-%d %H:%M}"


class LoginBlock(models.Model):
    """Sign-ins refused from one IP, for one email or (email empty) any, until a time."""

    ip = models.CharField(max_length=64)
    email = models.CharField(max_length=254, blank=True, help_text="Empty: every sign-in.")
    until = models.DateTimeField()
    failures = models.PositiveIntegerField(help_text="The failures that led to it.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ip", "email", "until"], name="login_block_idx")]

    def __str__(self) -> str:
        return f"{self.email or 'every sign-in'} from {self.ip} until {self.until:%H:%M}"

"""Account logos: validated, re-encoded as a small PNG, and stored."""

import io
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from rapport.accounts.models import (
    Account,
)
from rapport.audit.services import audit_changes, audit_record
from rapport.core.errors import InvalidInput
from rapport.users.models import User
from rapport.users.services import user_require_admin

LOGO_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
LOGO_MAX_PIXELS = 4096 * 4096
LOGO_SIZE = 256


def logo_validate(upload: UploadedFile) -> bytes:
    """Return the upload re-encoded as a PNG of at most 256 px, or raise InvalidInput.

    Re-encoding drops anything but pixels (metadata, scripts in polyglot files), so the
    stored file is always a plain PNG.
    """
    limit = settings.LOGO_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise InvalidInput(f"The logo must be at most {limit // 1024} KB.", field="logo")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"The logo must be at most {limit // 1024} KB.", field="logo")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            probe.verify()
        if image_format not in LOGO_FORMATS:
            raise InvalidInput("The logo must be a PNG, JPEG, GIF or WebP image.", field="logo")
        if width * height > LOGO_MAX_PIXELS:
            raise InvalidInput("The logo is too large (at most 4096 × 4096 px).", field="logo")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            pixels = image.convert("RGBA")
        pixels.thumbnail((LOGO_SIZE, LOGO_SIZE))
        out = io.BytesIO()
        pixels.save(out, format="PNG", optimize=True)
    except Image.DecompressionBombError:
        # Pillow refuses to open images whose pixel count could exhaust memory.
        raise InvalidInput(
            "The logo is too large (at most 4096 × 4096 px).", field="logo"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(
            "The logo must be a PNG, JPEG, GIF or WebP image.", field="logo"
        ) from None
    return out.getvalue()


def account_set_logo(*, actor: User, account: Account, upload: UploadedFile | None) -> Account:
    """Replace or remove an account's logo."""
    user_require_admin(actor, "change an account's logo")
    png = logo_validate(upload) if upload is not None else None
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        old = account.logo.name or None
        if png is not None:
            account.logo.save(
                f"{account.pk}-{uuid.uuid4().hex[:12]}.png", ContentFile(png), save=False
            )
        else:
            account.logo = ""
        account.save(update_fields=["logo", "updated_at"])
        audit_record(
            actor=actor,
            action="account.logo",
            obj=account,
            changes=audit_changes({"logo": old}, {"logo": account.logo.name or None}),
        )
    if old:
        storage = account.logo.storage
        transaction.on_commit(lambda: storage.delete(old))
    return account

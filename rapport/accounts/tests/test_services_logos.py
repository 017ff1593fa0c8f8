"""Logo services: validation, re-encoding and storage."""

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from rapport.accounts import services_logos
from rapport.accounts.tests.factories import (
    image_bytes,
    make_account,
    png_header_only,
)
from rapport.accounts.tests.kit import audit_of
from rapport.core.errors import InvalidInput, PermissionDenied
from rapport.users.models import User

pytestmark = pytest.mark.django_db


# --- logos ---------------------------------------------------------------------------------


def _upload(
    data: bytes, name: str = "logo.png", content_type: str = "image/png"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_a_good_logo_is_stored_as_a_small_png(admin_user: User, media_root: Path) -> None:
    account = make_account("Acme")
    upload = _upload(image_bytes(800, 400, format="JPEG"), "logo.jpg", "image/jpeg")
    services_logos.account_set_logo(actor=admin_user, account=account, upload=upload)
    account.refresh_from_db()
    assert str(account.logo.name).endswith(".png")
    with account.logo.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "PNG"
        assert max(image.size) == 256
        assert image.size == (256, 128)
    assert Path(account.logo.path).is_relative_to(media_root)
    [entry] = audit_of(account, "account.logo")
    assert entry.changes["logo"]["before"] is None


def test_reencoding_drops_image_metadata(admin_user: User, media_root: Path) -> None:
    exif = Image.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    upload = _upload(image_bytes(40, 40, format="JPEG", exif=exif), "x.jpg", "image/jpeg")
    account = make_account("Acme")
    services_logos.account_set_logo(actor=admin_user, account=account, upload=upload)
    account.refresh_from_db()
    with account.logo.open("rb") as stored:
        data = stored.read()
    assert b"secret description" not in data


def test_replacing_a_logo_deletes_the_old_file(
    admin_user: User, media_root: Path, django_capture_on_commit_callbacks: Callable
) -> None:
    account = make_account("Acme")
    services_logos.account_set_logo(
        actor=admin_user, account=account, upload=_upload(image_bytes())
    )
    account.refresh_from_db()
    old_path = Path(account.logo.path)
    with django_capture_on_commit_callbacks(execute=True):
        services_logos.account_set_logo(
            actor=admin_user, account=account, upload=_upload(image_bytes())
        )
    account.refresh_from_db()
    assert Path(account.logo.path).exists()
    assert not old_path.exists()


def test_removing_a_logo(admin_user: User, media_root: Path) -> None:
    account = make_account("Acme")
    services_logos.account_set_logo(
        actor=admin_user, account=account, upload=_upload(image_bytes())
    )
    services_logos.account_set_logo(actor=admin_user, account=account, upload=None)
    account.refresh_from_db()
    assert not account.logo


_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not an image at all", "must be a PNG, JPEG, GIF or WebP image"),
        (_SVG, "must be a PNG, JPEG, GIF or WebP image"),
        (b"", "must be a PNG, JPEG, GIF or WebP image"),
        (image_bytes(format="BMP"), "must be a PNG, JPEG, GIF or WebP image"),
        (image_bytes()[:60], "must be a PNG, JPEG, GIF or WebP image"),
        (png_header_only(5000, 5000), "too large"),
        (png_header_only(40000, 40000), "too large"),
    ],
    ids=["text", "svg", "empty", "bmp", "truncated", "huge", "decompression-bomb"],
)
def test_a_bad_logo_is_refused_and_the_account_keeps_its_logo(
    admin_user: User, media_root: Path, data: bytes, message: str
) -> None:
    account = make_account("Acme")
    with pytest.raises(InvalidInput) as caught:
        services_logos.account_set_logo(actor=admin_user, account=account, upload=_upload(data))
    assert message in caught.value.message
    assert caught.value.field == "logo"
    account.refresh_from_db()
    assert not account.logo
    assert not media_root.exists() or not any(media_root.rglob("*.png"))


def test_a_logo_over_the_size_limit_is_refused(
    admin_user: User, media_root: Path, settings: Any
) -> None:
    settings.LOGO_MAX_BYTES = 2048
    account = make_account("Acme")
    noisy = io.BytesIO()
    Image.effect_noise((200, 200), 100).save(noisy, format="PNG")
    assert len(noisy.getvalue()) > 2048
    with pytest.raises(InvalidInput, match="at most 2 KB"):
        services_logos.account_set_logo(
            actor=admin_user, account=account, upload=_upload(noisy.getvalue())
        )


def test_members_cannot_change_a_logo(member_user: User, media_root: Path) -> None:
    account = make_account("Acme")
    with pytest.raises(PermissionDenied):
        services_logos.account_set_logo(
            actor=member_user, account=account, upload=_upload(image_bytes())
        )
    account.refresh_from_db()
    assert not account.logo

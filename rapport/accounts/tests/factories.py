"""Build accounts through the real services, so tests exercise the real write path."""

import io
import itertools
import struct
import zlib
from collections.abc import Sequence
from typing import Any

from PIL import Image

from rapport.accounts.models import Account, FieldDefinition
from rapport.accounts.services import (
    account_create,
    account_record_crm_sync,
    account_set_crm_mapping,
)
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.services_fields import field_definition_create
from rapport.inbox.models import Channel
from rapport.inbox.services import channel_create, channel_set_accounts

_sequence = itertools.count(1)


def make_account(
    name: str | None = None,
    *,
    domain: str | None = "",
    contacts: int = 0,
    crm_id: str | None = None,
    **kwargs: Any,
) -> Account:
    """Create an account via `account_create`; pass domain=None for an account without one."""
    n = next(_sequence)
    name = name or f"Company {n}"
    if domain == "":
        domain = f"company{n}.example"
    account = account_create(actor=None, name=name, primary_domain=domain, **kwargs)
    for i in range(contacts):
        contact_add_to_account(account=account, email=f"person{i}@{domain or f'c{n}.example'}")
    if crm_id:
        account = account_set_crm_mapping(
            actor=None, account=account, provider="hubspot", external_id=crm_id, company_name=name
        )
        # As the CRM sync that links such accounts would; a hand mapping stays "mapped".
        account_record_crm_sync(account=account, ok=True)
        account.refresh_from_db()
    return account


def make_field(
    key: str, *, source: str = "rapport", type: str = "text", **kwargs: Any
) -> FieldDefinition:
    return field_definition_create(
        actor=None, key=key, label=key.replace("_", " ").title(), source=source, type=type, **kwargs
    )


def make_channel(name: str, *, accounts: Sequence[Account] = ()) -> Channel:
    """Register a Slack channel through the inbox services and link it to *accounts*."""
    n = next(_sequence)
    channel = channel_create(slack_team_id="T0001", slack_channel_id=f"C{n:06d}", name=name)
    if accounts:
        channel_set_accounts(actor=None, channel=channel, accounts=list(accounts))
    return channel


def image_bytes(width: int = 64, height: int = 32, *, format: str = "PNG", **save: Any) -> bytes:
    """Return a small solid image in *format*, for logo uploads."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 90)).save(out, format=format, **save)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """Return a tiny, well-formed PNG that claims *width* x *height* pixels.

    Decoding it would need width * height pixels of memory: a decompression bomb.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )

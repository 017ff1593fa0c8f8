"""The signing code that docs/integrations.md shows makes hashes the chat API accepts."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rapport.integrations.webchat.models import ChatSite
from rapport.integrations.webchat.tests.factories import Widget

DOCS = Path(__file__).resolve().parents[4] / "docs" / "integrations.md"

pytestmark = pytest.mark.django_db


def _documented_user_hash() -> Callable[[str, str], str]:
    block = r"```python\n((?:(?!```).)*?def rapport_user_hash.*?)```"
    found = re.search(block, DOCS.read_text(), re.S)
    assert found, "docs/integrations.md shows how a site's backend computes user_hash"
    namespace: dict[str, Any] = {}
    exec(compile(found.group(1), str(DOCS), "exec"), namespace)  # noqa: S102 - our own docs
    return namespace["rapport_user_hash"]


def test_the_documented_user_hash_verifies_a_visitor(site: ChatSite) -> None:
    sign = _documented_user_hash()

    answer = Widget(site).start(
        email="jo@acme.example", user_hash=sign(site.identity_secret, "jo@acme.example")
    )

    assert answer.status_code == 201
    assert answer.json()["verified"] is True
    wrong = Widget(site).start(
        email="jo@acme.example", user_hash=sign("wcs_other", "jo@acme.example")
    )
    assert wrong.status_code == 403

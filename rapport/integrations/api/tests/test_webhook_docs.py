"""The receiver's check that docs/integrations.md shows accepts Rapport's own signature."""

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rapport.integrations.api.webhooks import webhook_signature

DOCS = Path(__file__).resolve().parents[4] / "docs" / "integrations.md"


def _documented_verify() -> Callable[[str, dict[str, str], bytes], bool]:
    # The block that defines the function, not the first Python block of the page.
    block = r"```python\n((?:(?!```).)*?def rapport_webhook_verify.*?)```"
    found = re.search(block, DOCS.read_text(), re.S)
    assert found, "docs/integrations.md shows how to verify a webhook call"
    namespace: dict[str, Any] = {}
    exec(compile(found.group(1), str(DOCS), "exec"), namespace)  # noqa: S102 - our own docs
    return namespace["rapport_webhook_verify"]


def test_the_documented_check_accepts_a_signed_call_and_refuses_the_rest() -> None:
    verify = _documented_verify()
    secret, body = "whsec_test", b'{"type":"conversation.reply"}'
    now = str(int(time.time()))
    headers = {
        "X-Rapport-Timestamp": now,
        "X-Rapport-Signature": webhook_signature(secret, now, body),
    }
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" ")  # a changed body
    assert not verify("whsec_other", headers, body)  # another secret
    old = str(int(time.time()) - 600)
    replayed = {
        "X-Rapport-Timestamp": old,
        "X-Rapport-Signature": webhook_signature(secret, old, body),
    }
    assert not verify(secret, replayed, body)  # too old: a replay
    assert not verify(secret, {"X-Rapport-Timestamp": "²", "X-Rapport-Signature": ""}, body)

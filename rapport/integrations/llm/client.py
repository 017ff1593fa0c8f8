"""The one client of the optional language model: a chat completion that answers JSON.

Errors map once: a rate limit, an outage or a timeout is OutsideUnavailable; a refusal
(bad key, unknown model) or an answer that is not the JSON asked for is OutsideRefused.
"""

import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings

from rapport.core.outside import OutsideRefused, OutsideUnavailable
from rapport.integrations.services import integration_call_record

KEY = "llm"
MAX_ANSWER_BYTES = 1_000_000


def llm_configured() -> bool:
    return bool(settings.DRAFTING_LLM_URL)


def llm_chat_json(system: str, user: str, *, timeout: float) -> dict[str, Any]:
    """Ask the model; return the JSON object it answered with."""
    body = json.dumps(
        {
            "model": settings.DRAFTING_LLM_MODEL,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
        f"{settings.DRAFTING_LLM_URL}/chat/completions",
        data=body,
        headers={
            "Content-Type": "application/json",
            **(
                {"Authorization": f"Bearer {settings.DRAFTING_LLM_KEY}"}
                if settings.DRAFTING_LLM_KEY
                else {}
            ),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            raw = answer.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as exc:
        error: OutsideUnavailable | OutsideRefused
        if exc.code == 429 or exc.code >= 500:
            after = exc.headers.get("Retry-After") if exc.headers else None
            error = OutsideUnavailable(
                f"The language model answered {exc.code}.",
                after=float(after) if after and after.isdigit() else None,
            )
        else:
            error = OutsideRefused(f"The language model refused the call ({exc.code}).")
        integration_call_record(KEY, error=str(error))
        raise error from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        error = OutsideUnavailable(f"The language model cannot be reached: {exc}.")
        integration_call_record(KEY, error=str(error))
        raise error from None
    integration_call_record(KEY)
    if len(raw) > MAX_ANSWER_BYTES:
        raise OutsideRefused("The language model's answer is too large.")
    try:
        content = json.loads(raw)["choices"][0]["message"]["content"]
        parsed = json.loads(content)
    except (ValueError, KeyError, IndexError, TypeError):
        raise OutsideRefused("The language model did not answer with the JSON asked for.") from None
    if not isinstance(parsed, dict):
        raise OutsideRefused("The language model did not answer with a JSON object.")
    return parsed

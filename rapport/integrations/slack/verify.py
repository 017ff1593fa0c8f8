"""Check a Slack HTTP delivery before Bolt reads it: the signature, then the payload.

Bolt takes any signed body for a payload Slack would send. A JSON list, a body that is
not UTF-8, a click without actions or a modal without a type made it raise, and
Rapport answered 500. `SlackRequest.validate` checks first, each step with its own
status (as Sentry's SlackRequest does): the signature (401), then the payload (400):
an object, in the form Slack sends it, whose parts that Bolt and Rapport's listeners
read have the types Slack gives them. A well-formed payload of a kind Rapport does not
handle goes on to Bolt, which answers it 200 "unsupported" (`bolt._unsupported_or_error`).
"""

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

# Slack's own window: a delivery signed longer ago than this may be a replay.
SIGNATURE_MAX_AGE = 5 * 60

# Parts of a payload that are objects whenever they are there (`enterprise` may also be
# an id); the listeners and Bolt's context read fields of each. Inside an event the same
# names are ids (`"user": "U0789JANE"`), so only the payload's own are checked.
_OBJECTS = (
    "user",
    "team",
    "channel",
    "container",
    "message",
    "view",
    "event",
    "state",
    "workflow_step",
)
# Parts that Bolt matches listeners on, or that name something: always text.
_TEXTS = ("type", "command", "callback_id", "action_id", "block_id", "trigger_id", "event_id")


class SlackRequestError(Exception):
    """A delivery refused before Bolt reads it, with the status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


BAD_SIGNATURE = (
    "The Slack signature is missing or wrong, or its timestamp is more than 5 minutes "
    "away from now."
)
NOT_A_PAYLOAD = "The request body is not a Slack payload (JSON, or form-encoded)."


def slack_signature_valid(
    secret: str, body: bytes, timestamp: str, signature: str, *, now: float
) -> bool:
    """Say whether *signature* is Slack's `v0` HMAC-SHA256 of *body* at *timestamp*.

    Computed on the raw bytes, so a body that is not UTF-8 is judged like any other.
    """
    if not (timestamp.isascii() and timestamp.isdecimal()) or len(timestamp) > 12:
        return False
    if abs(now - int(timestamp)) > SIGNATURE_MAX_AGE:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def _malformed(problem: str) -> SlackRequestError:
    return SlackRequestError(400, f"The Slack payload is malformed: {problem}.")


def _check_texts(part: Mapping[str, Any], where: str = "") -> None:
    for name in _TEXTS:
        if name in part and not isinstance(part[name], str):
            raise _malformed(f"{where}{name} must be text")


def slack_payload_check(payload: Mapping[str, Any]) -> None:
    """Refuse a payload whose parts do not have the types Slack gives them."""
    for name in _OBJECTS:
        if payload.get(name) is not None and not isinstance(payload[name], dict):
            raise _malformed(f"{name} must be an object")
    _check_texts(payload)
    enterprise = payload.get("enterprise")
    if enterprise is not None and not isinstance(enterprise, dict | str):
        raise _malformed("enterprise must be an object or an id")
    authorizations = payload.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        raise _malformed("authorizations must be a list of objects")
    if isinstance(payload.get("event"), dict):
        _check_texts(payload["event"], "event.")
    view = payload.get("view")
    if isinstance(view, dict):
        _check_texts(view, "view.")
        if "callback_id" in view and "type" not in view:
            raise _malformed("view has no type")
    # A workflow step's edit and save (legacy Steps from Apps) carry the step itself.
    step_kind = payload.get("type") == "workflow_step_edit" and "callback_id" in payload
    step_save = payload.get("type") == "view_submission" and (view or {}).get("type") == (
        "workflow_step"
    )
    if (step_kind or step_save) and not isinstance(payload.get("workflow_step"), dict):
        raise _malformed("a workflow step payload has no workflow_step")
    if "actions" in payload:
        actions = payload["actions"]
        if not (isinstance(actions, list) and actions):
            raise _malformed("actions must be a list of at least one action")
        for action in actions:
            if not isinstance(action, dict):
                raise _malformed("each action must be an object")
            _check_texts(action, "action.")
            if payload.get("type") == "block_actions" and "action_id" not in action:
                raise _malformed("a block action has no action_id")


def slack_payload_parse(body: bytes, content_type: str) -> dict[str, Any]:
    """Return the payload of *body* as Bolt will read it; raise SlackRequestError if none.

    A JSON body (events) must be an object; a form is either `payload=<JSON object>`
    (clicks, modals, shortcuts) or plain fields (slash commands).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SlackRequestError(400, NOT_A_PAYLOAD) from None
    if not text:
        return {}
    try:
        if content_type == "application/json" or text.startswith("{"):
            payload = json.loads(text)
        else:
            fields = dict(parse_qsl(text, keep_blank_values=True))
            payload = json.loads(fields["payload"]) if "payload" in fields else fields
    except ValueError:
        raise SlackRequestError(400, NOT_A_PAYLOAD) from None
    if not isinstance(payload, dict):
        raise SlackRequestError(400, NOT_A_PAYLOAD)
    return payload


class SlackRequest:
    """One HTTP delivery from Slack: its raw body and headers."""

    def __init__(self, body: bytes, headers: Mapping[str, str]) -> None:
        self.body = body
        self.headers = headers

    def validate(self, signing_secret: str, *, now: float | None = None) -> dict[str, Any]:
        """Check the signature, then the payload; return the payload or raise SlackRequestError."""
        if not slack_signature_valid(
            signing_secret,
            self.body,
            self.headers.get("X-Slack-Request-Timestamp", ""),
            self.headers.get("X-Slack-Signature", ""),
            now=time.time() if now is None else now,
        ):
            raise SlackRequestError(401, BAD_SIGNATURE)
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        payload = slack_payload_parse(self.body, content_type)
        slack_payload_check(payload)
        return payload

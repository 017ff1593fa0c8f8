"""Slack's HTTP endpoints: events, interactivity (`actions`) and slash commands.

`POST /integrations/slack/events`, `/actions` and `/commands` all go to the one Bolt
app, which tells the kinds apart by their payload.
"""

import functools

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_bolt import App
from slack_bolt.adapter.django import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from rapport.integrations.slack.bolt import slack_app

BAD_SIGNATURE = (
    "The Slack signature is missing or wrong, or its timestamp is more than 5 minutes "
    "away from now."
)

NOT_A_PAYLOAD = "The request body is not a Slack payload (JSON, or form-encoded)."


@functools.cache
def _handler(app: App) -> SlackRequestHandler:
    return SlackRequestHandler(app)


@csrf_exempt
@require_POST
def slack_events(request: HttpRequest) -> HttpResponse:
    """Verify one Slack delivery and answer it within Slack's 3 seconds.

    An Events API message is stored and processed by a worker; a click, modal
    submission, shortcut or slash command is answered by its listener.
    """
    if not settings.SLACK_SIGNING_SECRET:
        return JsonResponse(
            {"error": "Slack is not set up on this server: SLACK_SIGNING_SECRET is empty."},
            status=503,
        )
    try:
        response = _handler(slack_app()).handle(request)
    except ValueError:  # a body that is not JSON (or not UTF-8), signed or not
        verifier = SignatureVerifier(settings.SLACK_SIGNING_SECRET)
        if not verifier.is_valid_request(request.body, dict(request.headers)):
            return JsonResponse({"error": BAD_SIGNATURE}, status=401)
        return JsonResponse({"error": NOT_A_PAYLOAD}, status=400)
    if response.status_code == 401:
        return JsonResponse({"error": BAD_SIGNATURE}, status=401)
    return response

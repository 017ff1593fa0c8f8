"""Slack's HTTP endpoints: events, interactivity (`actions`) and slash commands.

`POST /integrations/slack/events`, `/actions` and `/commands` all go to the one Bolt
app, which tells the kinds apart by their payload. `verify.SlackRequest` checks the
signature and the payload's shape first, so Bolt only ever reads a payload it can.
"""

import functools
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_bolt import App
from slack_bolt.adapter.django import SlackRequestHandler

from rapport.integrations.slack.bolt import slack_app
from rapport.integrations.slack.verify import BAD_SIGNATURE, SlackRequest, SlackRequestError

logger = logging.getLogger(__name__)

UNREADABLE = (
    "The Slack payload lacks a part its type needs (Rapport could not read it), so it was "
    "not handled."
)


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
        SlackRequest(request.body, request.headers).validate(settings.SLACK_SIGNING_SECRET)
    except SlackRequestError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    try:
        response = _handler(slack_app()).handle(request)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        # Raised while Bolt reads the payload to pick a listener (a listener's own error
        # goes to the app's error handler instead): the payload is signed but not one
        # Rapport can handle, and Slack would only send it again.
        logger.warning("Slack payload Bolt could not read", exc_info=True)
        return JsonResponse({"error": UNREADABLE}, status=400)
    if response.status_code == 401:
        return JsonResponse({"error": BAD_SIGNATURE}, status=401)
    return response

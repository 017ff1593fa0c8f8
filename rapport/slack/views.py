"""The Events API endpoint: `POST /integrations/slack/events`."""

import functools

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_bolt import App
from slack_bolt.adapter.django import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from rapport.slack.bolt import slack_app

BAD_SIGNATURE = (
    "The Slack signature is missing or wrong, or its timestamp is more than 5 minutes "
    "away from now."
)


@functools.cache
def _handler(app: App) -> SlackRequestHandler:
    return SlackRequestHandler(app)


@csrf_exempt
@require_POST
def slack_events(request: HttpRequest) -> HttpResponse:
    """Verify and store one Events API delivery, then answer at once.

    Slack expects an answer within 3 seconds and retries otherwise; the stored event is
    processed by a worker.
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
        return JsonResponse({"error": "The request body is not a Slack JSON payload."}, status=400)
    if response.status_code == 401:
        return JsonResponse({"error": BAD_SIGNATURE}, status=401)
    return response

"""The App Home: each member's requests, the incoming ones, and overviews for admins."""

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from rapport.integrations.slack.blocks import app_home_stranger_view, app_home_view
from rapport.integrations.slack.replies import slack_reply_call
from rapport.integrations.slack.selectors import app_home_data, member_for_slack_user


def app_home_publish(client: WebClient, slack_user_id: str) -> bool:
    """Publish the App Home of a Slack user, as Rapport sees their requests now."""
    member = member_for_slack_user(slack_user_id)
    view = app_home_view(app_home_data(member)) if member else app_home_stranger_view()
    return slack_reply_call(client, "views.publish", user_id=slack_user_id, view=view)


def _home_opened(event: dict[str, Any], client: WebClient) -> None:
    # The Messages tab opens the DM with the app; it has nothing to publish.
    if event.get("tab", "home") == "home" and event.get("user"):
        app_home_publish(client, event["user"])


def app_home_listeners_register(app: App) -> None:
    app.event("app_home_opened")(_home_opened)

"""Web chat on the Integrations page: its sites, and the chats waiting to be taken in."""

from rapport.inbox.models import Source
from rapport.integrations.status import Activity, IntegrationStatus, integration_status_build
from rapport.integrations.webchat.selectors import chat_sites_active_count

KEY = "webchat"
TITLE = "Web chat"


def webchat_status(activity: Activity) -> IntegrationStatus:
    """Tell web chat's state: it needs an active site; replies need no outside call."""
    sites = chat_sites_active_count()
    return integration_status_build(
        activity,
        key=KEY,
        title=TITLE,
        configured=sites > 0,
        setup=[f"{sites} active site{'' if sites == 1 else 's'}" if sites else "No active site"],
        sources=[Source.WEB_CHAT],
    )

"""Reads of mapping decisions."""

from rapport.inbox.models import Conversation
from rapport.mapping.models import MappingDecision


def mapping_latest(conversation: Conversation) -> MappingDecision | None:
    """Return the decision in force for *conversation*."""
    return (
        MappingDecision.objects.filter(conversation=conversation)
        .select_related("account", "actor")
        .order_by("-created_at", "-id")
        .first()
    )

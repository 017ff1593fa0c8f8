"""Users tasks: thin wrappers that call the services."""

from django.tasks import task

from rapport.users.services_throttle import login_throttle_prune


@task()
def login_throttle_prune_run() -> int:
    """Delete failed sign-ins and blocks that no longer count."""
    return login_throttle_prune()

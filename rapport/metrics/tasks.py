"""Metrics tasks: thin wrappers that call the refresh services."""

from django.tasks import task

from rapport.metrics.services import metrics_refresh_all, metrics_refresh_changed


@task()
def metrics_refresh_changed_run() -> int:
    """Refresh the request figures of accounts whose requests changed since the last run."""
    return metrics_refresh_changed()


@task()
def metrics_refresh_all_run() -> int:
    """Recompute every account's request figures."""
    return metrics_refresh_all()

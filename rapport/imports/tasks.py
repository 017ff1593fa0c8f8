"""Imports tasks: thin wrappers that call the services."""

from django.tasks import task

from rapport.imports.services import import_run


@task()
def import_run_task(upload_id: int) -> str:
    """Write a confirmed import; return its status at the end."""
    return import_run(upload_id).status

"""Settings for the test suite: the real stack, with fast hashing and inline tasks."""

import os

os.environ.setdefault("RAPPORT_ENV", "test")

from rapport.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run inline unless a test is about the queue itself (those use the database backend).
TASKS = {
    "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
}

if DATABASES["default"]["ENGINE"] == "rapport.core.sqlite":  # noqa: F405
    # An in-memory test database per xdist worker, as for Django's own SQLite engine
    # (pytest-django recognises only that engine's name).
    DATABASES["default"].setdefault("TEST", {})["NAME"] = ":memory:"  # noqa: F405

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    """The account directory: a read model over accounts, their channels and request figures.

    It depends on the accounts, inbox and metrics apps; no app depends on it.
    """

    name = "rapport.directory"
    label = "directory"
    verbose_name = "Directory"

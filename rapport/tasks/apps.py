from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "rapport.tasks"
    label = "tasks"
    verbose_name = "Tasks"

from django.urls import path

from rapport.mapping import views

app_name = "mapping"
urlpatterns = [
    path("", views.MappingReportView.as_view(), name="report"),
    path("settings/", views.MappingSettingsView.as_view(), name="settings"),
    path(
        "conflicts/<int:pk>/resolve/", views.ConflictResolveView.as_view(), name="conflict_resolve"
    ),
    path("patterns/apply/", views.PatternApplyView.as_view(), name="pattern_apply"),
]

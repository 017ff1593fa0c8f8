from django.urls import path

from rapport.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.ImportUploadView.as_view(), name="upload"),
    path("template.csv", views.ImportTemplateCsvView.as_view(), name="template_csv"),
    path("<int:upload_id>/", views.ImportDetailView.as_view(), name="detail"),
    path("<int:upload_id>/progress/", views.ImportProgressView.as_view(), name="progress"),
    path("<int:upload_id>/confirm/", views.ImportConfirmView.as_view(), name="confirm"),
    path("<int:upload_id>/resume/", views.ImportResumeView.as_view(), name="resume"),
]

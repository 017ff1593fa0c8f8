from django.urls import path

from rapport.onboarding import views, views_public

app_name = "onboarding"

urlpatterns = [
    path("onboarding/", views.OnboardingListView.as_view(), name="list"),
    path("onboarding/new/", views.OnboardingCreateView.as_view(), name="create"),
    path("onboarding/templates/", views.TemplateListView.as_view(), name="templates"),
    path("onboarding/templates/new/", views.TemplateEditView.as_view(), name="template_create"),
    path(
        "onboarding/templates/<int:template_id>/edit/",
        views.TemplateEditView.as_view(),
        name="template_edit",
    ),
    path(
        "onboarding/templates/<int:template_id>/",
        views.TemplateDetailView.as_view(),
        name="template",
    ),
    path("onboarding/<int:account_id>/", views.PlanView.as_view(), name="plan"),
    path("onboarding/<int:account_id>/status/", views.StatusChangeView.as_view(), name="status"),
    path("onboarding/<int:account_id>/csm/", views.CsmAssignView.as_view(), name="csm"),
    path(
        "onboarding/<int:account_id>/links/<str:kind>/",
        views.LinkSendView.as_view(),
        name="link_send",
    ),
    path("onboarding/tasks/<int:task_id>/", views.TaskToggleView.as_view(), name="task"),
    path("handoff/<str:token>/", views_public.HandoffView.as_view(), name="handoff"),
    path("portal/<str:token>/", views_public.PortalView.as_view(), name="portal"),
    path(
        "portal/<str:token>/tasks/<int:task_id>/complete/",
        views_public.PortalTaskCompleteView.as_view(),
        name="portal_task",
    ),
]

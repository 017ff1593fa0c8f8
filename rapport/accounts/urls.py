"""The account pages, under /accounts/ in the `accounts` namespace.

The directory's pages share the prefix and the namespace (see rapport/urls.py).
"""

from django.urls import path

from rapport.accounts import views

urlpatterns = [
    path("new/", views.AccountCreateView.as_view(), name="create"),
    path("fields/", views.FieldDefinitionListView.as_view(), name="fields"),
    path("<int:pk>/", views.AccountDetailView.as_view(), name="detail"),
    path("<int:pk>/identity/", views.AccountIdentityUpdateView.as_view(), name="identity"),
    path("<int:pk>/metadata/", views.AccountMetadataUpdateView.as_view(), name="metadata"),
    path("<int:pk>/crm/", views.AccountCrmMappingView.as_view(), name="crm"),
    path("<int:pk>/field-values/", views.AccountFieldValuesView.as_view(), name="field_values"),
    path("<int:pk>/contacts/", views.AccountContactAddView.as_view(), name="contact_add"),
    path("<int:pk>/logo", views.AccountLogoView.as_view(), name="logo"),
    path("<int:pk>/logo/edit/", views.AccountLogoUpdateView.as_view(), name="logo_update"),
    path("<int:pk>/delete/", views.AccountDeleteView.as_view(), name="delete"),
]

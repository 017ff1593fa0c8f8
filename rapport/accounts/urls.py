from django.urls import path

from rapport.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.AccountListView.as_view(), name="list"),
    path("new/", views.AccountCreateView.as_view(), name="create"),
    path("columns/", views.DirectoryColumnsView.as_view(), name="columns"),
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
    path("<int:pk>/cell/<str:field>/", views.AccountCellView.as_view(), name="cell"),
    path("<int:pk>/cell/<str:field>/edit/", views.AccountCellEditView.as_view(), name="cell_edit"),
]

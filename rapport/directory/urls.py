"""The directory's pages: /accounts/ itself, the column picker and the inline cells.

They keep the `accounts` namespace of the section they sit in (see rapport/urls.py).
"""

from django.urls import path

from rapport.directory import views

urlpatterns = [
    path("", views.AccountListView.as_view(), name="list"),
    path("columns/", views.DirectoryColumnsView.as_view(), name="columns"),
    path("<int:pk>/cell/<str:field>/", views.AccountCellView.as_view(), name="cell"),
    path("<int:pk>/cell/<str:field>/edit/", views.AccountCellEditView.as_view(), name="cell_edit"),
]

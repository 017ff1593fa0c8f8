from django.urls import path

from rapport.requests import views_board, views_csat, views_detail, views_settings

app_name = "requests"
urlpatterns = [
    path("", views_board.RequestBoardView.as_view(), name="board"),
    path("mine/", views_board.RequestQueueView.as_view(), name="mine"),
    path("pick/", views_board.RequestPickView.as_view(), name="pick"),
    path("column/<str:status>/", views_board.RequestColumnView.as_view(), name="column"),
    path("settings/", views_settings.RequestSettingsView.as_view(), name="settings"),
    path(
        "settings/channels/<int:pk>/",
        views_settings.ChannelRequestSettingsView.as_view(),
        name="channel_settings",
    ),
    path("<int:pk>/", views_detail.RequestDetailView.as_view(), name="detail"),
    path("<int:pk>/act/", views_detail.RequestActionView.as_view(), name="act"),
    path("<int:pk>/move/", views_board.RequestMoveView.as_view(), name="move"),
    path("rate/<str:token>/", views_csat.RequestCsatView.as_view(), name="csat"),
]

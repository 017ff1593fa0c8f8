from django.urls import path

from rapport.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.InboxView.as_view(), name="list"),
    path("accounts/", views.AccountSearchView.as_view(), name="account_search"),
    path("channels/", views.ChannelListView.as_view(), name="channels"),
    path(
        "channels/<int:pk>/accounts/", views.ChannelAccountsView.as_view(), name="channel_accounts"
    ),
    path("channels/<int:pk>/csm/", views.ChannelCsmView.as_view(), name="channel_csm"),
    path("<int:pk>/", views.ConversationDetailView.as_view(), name="conversation"),
    path("<int:pk>/account/", views.ConversationAccountView.as_view(), name="conversation_account"),
    path("<int:pk>/reply/", views.ConversationReplyView.as_view(), name="conversation_reply"),
    path("messages/<int:pk>/assign/", views.MessageAssignView.as_view(), name="message_assign"),
    path("messages/<int:pk>/retry/", views.MessageRetryView.as_view(), name="message_retry"),
]

from django.contrib.auth import views as auth_views
from django.urls import path

from rapport.users.specs import IS_CSM, ROLE, SLACK_USER_ID
from rapport.users.views import UserLoginView
from rapport.users.views_invitations import InvitationAcceptView
from rapport.users.views_team import (
    InvitationResendView,
    InvitationRevokeView,
    MemberActiveView,
    MemberFieldView,
    TeamView,
)
from rapport.users.views_tokens import ApiTokenListView, ApiTokenRevokeView

app_name = "users"
urlpatterns = [
    path("login/", UserLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invitations/<str:token>/", InvitationAcceptView.as_view(), name="invitation_accept"),
    path("settings/team/", TeamView.as_view(), name="team"),
    path(
        "settings/team/members/<int:pk>/role/",
        MemberFieldView.as_view(spec=ROLE),
        name="member_role",
    ),
    path(
        "settings/team/members/<int:pk>/slack/",
        MemberFieldView.as_view(spec=SLACK_USER_ID),
        name="member_slack",
    ),
    path(
        "settings/team/members/<int:pk>/csm/",
        MemberFieldView.as_view(spec=IS_CSM),
        name="member_csm",
    ),
    path(
        "settings/team/members/<int:pk>/active/",
        MemberActiveView.as_view(),
        name="member_active",
    ),
    path(
        "settings/team/invitations/<int:pk>/resend/",
        InvitationResendView.as_view(),
        name="invitation_resend",
    ),
    path(
        "settings/team/invitations/<int:pk>/revoke/",
        InvitationRevokeView.as_view(),
        name="invitation_revoke",
    ),
    path("settings/tokens/", ApiTokenListView.as_view(), name="tokens"),
    path("settings/tokens/<int:pk>/revoke/", ApiTokenRevokeView.as_view(), name="token_revoke"),
]

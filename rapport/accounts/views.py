from django.views.generic import TemplateView


class AccountListView(TemplateView):
    template_name = "accounts/list.html"


class AccountDetailView(TemplateView):
    template_name = "accounts/detail.html"

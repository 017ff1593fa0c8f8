"""Move accounts to the onboarding lifecycle; derive company sizes from employee counts.

Old statuses map as: active -> completed (launched customers), onboarding -> active
(onboarding in progress), prospect -> none (never onboarded); at_risk and churned stay.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


STATUS_MOVES = (("active", "completed"), ("onboarding", "active"), ("prospect", "none"))
SIZES = ((50, "1-50"), (500, "51-500"), (5000, "501-5000"))


def _forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    Account = apps.get_model("accounts", "Account")
    for old, new in STATUS_MOVES:  # in this order: "active" is freed before it is reused
        Account.objects.filter(status=old).update(status=new)
    floor = -1
    for ceiling, size in SIZES:
        Account.objects.filter(
            employee_count__gt=floor, employee_count__lte=ceiling
        ).update(company_size=size)
        floor = ceiling
    Account.objects.filter(employee_count__gt=floor).update(company_size="5000+")


def _backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    Account = apps.get_model("accounts", "Account")
    for old, new in reversed(STATUS_MOVES):
        Account.objects.filter(status=new).update(status=old)
    Account.objects.filter(status__in=["pending_handoff"]).update(status="onboarding")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0008_crm_mapped_status'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='account',
            name='company_size',
            field=models.CharField(blank=True, choices=[('1-50', '1-50 (SMB)'), ('51-500', '51-500 (Mid-Market)'), ('501-5000', '501-5000 (Enterprise)'), ('5000+', '5000+ (Global Enterprise)')], max_length=10),
        ),
        migrations.AddField(
            model_name='account',
            name='csm',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='csm_accounts', to=settings.AUTH_USER_MODEL, verbose_name='CSM'),
        ),
        migrations.AddField(
            model_name='account',
            name='renewal_date',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='account',
            name='status',
            field=models.CharField(choices=[('none', 'Not onboarded'), ('pending_handoff', 'Pending handoff'), ('active', 'Active'), ('at_risk', 'At risk'), ('completed', 'Completed'), ('churned', 'Churned')], default='none', max_length=16),
        ),
        migrations.RunPython(_forward, _backward),
        migrations.AddIndex(
            model_name="account",
            index=models.Index(fields=["csm", "id"], name="account_csm_idx"),
        ),
        migrations.AddIndex(
            model_name="account",
            index=models.Index(fields=["renewal_date", "id"], name="account_renewal_idx"),
        ),
    ]

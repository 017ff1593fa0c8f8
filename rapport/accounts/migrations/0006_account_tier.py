from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_account_external_ref_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="tier",
            field=models.CharField(
                blank=True, db_default="", db_index=True, default="", max_length=50
            ),
        ),
    ]

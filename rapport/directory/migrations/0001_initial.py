# DirectoryPreference moves from the accounts app. Its table keeps its name and rows:
# this migration changes Django's state only (accounts 0007 drops it from accounts').

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0006_account_tier'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DirectoryPreference',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('columns', models.JSONField(default=list)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='directory_preference', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'accounts_directorypreference',
                    },
                ),
            ],
            database_operations=[],
        ),
    ]

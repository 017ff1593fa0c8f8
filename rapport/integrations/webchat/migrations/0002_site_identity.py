"""Give each site an identity secret of its own, and let it require verified visitors.

Visitors from before this migration were never verified: they keep `verified=False`.
"""

import secrets

from django.db import migrations, models

import rapport.integrations.webchat.models


def secrets_draw(apps, schema_editor):
    # AddField gives every existing row the same default; each site needs its own.
    ChatSite = apps.get_model("webchat", "ChatSite")
    for site in ChatSite.objects.only("pk"):
        ChatSite.objects.filter(pk=site.pk).update(
            identity_secret="wcs_" + secrets.token_hex(32)
        )


class Migration(migrations.Migration):
    dependencies = [("webchat", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="chatsite",
            name="identity_secret",
            field=models.CharField(
                default=rapport.integrations.webchat.models.identity_secret_generate,
                editable=False,
                max_length=80,
            ),
        ),
        migrations.AddField(
            model_name="chatsite",
            name="identity_secret_rotated_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="chatsite",
            name="require_verified",
            field=models.BooleanField(
                default=False,
                help_text="Only visitors whose email the site's backend signed may start a chat.",
            ),
        ),
        migrations.AddField(
            model_name="chatvisitor",
            name="verified",
            field=models.BooleanField(
                default=False,
                help_text="The site's backend signed the email (a valid user_hash).",
            ),
        ),
        migrations.RunPython(secrets_draw, migrations.RunPython.noop),
    ]

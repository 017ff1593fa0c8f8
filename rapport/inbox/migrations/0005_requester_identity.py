"""Say whether a requester's email is vouched for; web chat emails so far never were."""

from django.db import migrations, models


def web_chat_unverified(apps, schema_editor):
    # Before sites could sign their visitors' emails, every chat email was a claim.
    Conversation = apps.get_model("inbox", "Conversation")
    Conversation.objects.filter(source="web_chat").update(requester_identity="unverified")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0004_message_delivery_status")]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="requester_identity",
            field=models.CharField(
                blank=True,
                choices=[("verified", "Verified"), ("unverified", "Unverified")],
                max_length=12,
            ),
        ),
        migrations.RunPython(web_chat_unverified, migrations.RunPython.noop),
    ]

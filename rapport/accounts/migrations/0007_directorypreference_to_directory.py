# DirectoryPreference now belongs to the directory app (directory 0001), on the same
# table: drop it from this app's state only, and move its content type along.

from django.db import migrations


def content_type_move(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    ContentType.objects.using(schema_editor.connection.alias).filter(
        app_label='accounts', model='directorypreference'
    ).update(app_label='directory')


def content_type_move_back(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    ContentType.objects.using(schema_editor.connection.alias).filter(
        app_label='directory', model='directorypreference'
    ).update(app_label='accounts')


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_account_tier'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('directory', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='DirectoryPreference')],
            database_operations=[],
        ),
        migrations.RunPython(content_type_move, content_type_move_back),
    ]

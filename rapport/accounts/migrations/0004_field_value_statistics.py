"""On PostgreSQL, tell the planner that a field value depends on its field.

Values are shared across fields only rarely ("Enterprise" is a tier, never a region), so
PostgreSQL, assuming `field_id` and `value_text` independent, underestimated a filter
such as `field.tier=Mid-Market` tenfold and hashed every matching value (35,000 at
100,000 accounts) instead of probing the few accounts other filters leave: 13 ms became
9 ms for the directory count of docs/benchmarks.md. SQLite has no extended statistics.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE STATISTICS IF NOT EXISTS field_value_field_text_stats (mcv, dependencies) "
        "ON field_id, value_text FROM accounts_fieldvalue"
    )
    # Collect them now rather than at the next automatic analyze (a sample, so cheap).
    schema_editor.execute("ANALYZE accounts_fieldvalue")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP STATISTICS IF EXISTS field_value_field_text_stats")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_search_trigram")]
    operations = [migrations.RunPython(create, drop, elidable=False)]

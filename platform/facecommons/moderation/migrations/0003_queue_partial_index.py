"""A partial index for the moderation queue on PostgreSQL/CockroachDB.

The queue reads ``status = 'awaiting_review' ORDER BY created_at, id LIMIT 5 FOR UPDATE SKIP
LOCKED``. This index holds only the rows awaiting review (small even when millions are
approved), in exactly that order, so the read walks the first few index entries. It lives in
moderation's migrations because the queue is moderation's; SQLite keeps the composite
(status, created_at) index of the contributions app.
"""

from django.db import migrations

INDEX = "moderation_queue_awaiting_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON contributions_contribution (created_at, id) "
        "WHERE status = 'awaiting_review'")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("moderation", "0002_review_permission"), ("contributions", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]

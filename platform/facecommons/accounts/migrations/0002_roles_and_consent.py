from django.db import migrations
from django.utils import timezone

CONSENT_V1 = """\
Face Commons collects photos of faces, with the categories you choose to declare, to build an
open dataset that represents people today's datasets leave out, and to measure how fairly face
recognition models work for everyone.

By accepting you confirm that:
- you are 18 or older, and every photo you upload shows you and only you;
- your photos and declared categories may be reviewed by our moderators and, once approved,
  included in versioned dataset snapshots released to approved researchers under a data-use
  agreement that forbids re-identification and surveillance uses;
- photos are biometric data: we strip all metadata (including location) from every copy we
  store or release, never show them at a public address, and log every access;
- you can withdraw at any time. We then delete every photo and derived file we hold, remove
  you from all future snapshots, and tell researchers who downloaded earlier snapshots to
  delete your photos.
"""


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ("contributor", "moderator", "researcher", "admin"):
        Group.objects.get_or_create(name=name)
    ConsentVersion = apps.get_model("accounts", "ConsentVersion")
    if not ConsentVersion.objects.exists():
        ConsentVersion.objects.create(version=1, title="Consent to take part", text=CONSENT_V1,
                                      published_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

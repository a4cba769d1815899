"""Grant ``moderation.review`` to the moderator and admin groups (base.html shows the queue
link to holders of it)."""

from django.db import migrations

GROUPS = ("moderator", "admin")


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    ct, _ = ContentType.objects.get_or_create(app_label="moderation", model="review")
    perm, _ = Permission.objects.get_or_create(content_type=ct, codename="review",
                                               defaults={"name": "Can review contributions in the moderation queue"})
    for name in GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(perm)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="moderation", codename="review").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
        ("accounts", "0002_roles_and_consent"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

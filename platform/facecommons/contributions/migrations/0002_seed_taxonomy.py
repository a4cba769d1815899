from django.db import migrations


def forwards(apps, schema_editor):
    from facecommons.contributions.taxonomy_seed import seed_taxonomy

    if apps.get_model("contributions", "TaxonomyVersion").objects.exists():
        return
    seed_taxonomy(apps.get_model("contributions", "TaxonomyVersion"), apps.get_model("contributions", "Category"),
                  apps.get_model("contributions", "CategoryValue"))


class Migration(migrations.Migration):
    dependencies = [("contributions", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

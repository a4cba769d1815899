"""PostgreSQL: a deferred constraint trigger checks that each ledger transaction sums to zero
at commit. (CockroachDB has no constraint triggers; there the service's check stands alone.)
Beat: the monthly payout round and the daily points reconciliation."""

from django.db import migrations

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION rewards_check_transaction_balanced() RETURNS trigger AS $$
DECLARE t bigint; s numeric;
BEGIN
  IF TG_OP = 'DELETE' THEN t := OLD.transaction_id; ELSE t := NEW.transaction_id; END IF;
  SELECT COALESCE(SUM(amount_minor), 0) INTO s FROM rewards_entry WHERE transaction_id = t;
  IF s <> 0 THEN
    RAISE EXCEPTION 'rewards ledger transaction % does not balance (sum %)', t, s USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END; $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS rewards_entry_balanced ON rewards_entry;
CREATE CONSTRAINT TRIGGER rewards_entry_balanced AFTER INSERT OR UPDATE OR DELETE ON rewards_entry
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rewards_check_transaction_balanced();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS rewards_entry_balanced ON rewards_entry;
DROP FUNCTION IF EXISTS rewards_check_transaction_balanced();
"""

TASKS = [
    # name, task, crontab (minute, hour, day_of_month)
    ("rewards: monthly payout round", "facecommons.rewards.tasks.payout_round_run_task", ("0", "3", "1")),
    ("rewards: daily points reconciliation", "facecommons.rewards.tasks.points_reconcile_task", ("30", "2", "*")),
]


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def add_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour, dom) in TASKS:
        cron, _ = CrontabSchedule.objects.get_or_create(minute=minute, hour=hour, day_of_month=dom,
                                                        month_of_year="*", day_of_week="*")
        PeriodicTask.objects.update_or_create(name=name, defaults={"task": task, "crontab": cron, "enabled": True,
                                                                   "queue": "default"})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[t[0] for t in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("rewards", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(add_trigger, drop_trigger),
        migrations.RunPython(add_schedule, remove_schedule),
    ]

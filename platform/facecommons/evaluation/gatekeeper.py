"""The platform audits its own gatekeeper, per group.

The pipeline advises (findings), routes (review / wait for the contributor / reject), and the
abuse checks raise flags that stop rewards until a moderator dismisses them. Each of these
automated judgements can fail one group more than another, which is the failure this
platform exists to measure. For every category and the intersections the evaluation uses
(``ml.metrics.groups.default_specs``), with n and a 95% Wilson interval, groups below the
evaluation's minimum size marked insufficient, and public output hidden below
``STATS_MIN_COUNT`` (as every other statistic):

- ``flagged``: share of processed photos with at least one finding;
- ``not_queued``: share the pipeline did not send to review (no face found, or rejected);
- ``review_requested``: of the photos not queued, the share whose contributor asked a person;
- ``finding_overturned``: of the photos with a finding that a person decided, the share approved;
- ``detector_missed``: of the human-approved photos, the share in which the reference
  detector found no face (the moderator marked it): the miss rate the old auto-rejection hid;
- ``flag_raised:<kind>``: share of the photos that reached review with an abuse flag of that
  kind; ``flag_dismissed:<kind>``: of those, the share whose flag a moderator dismissed;
- ``<metric>_gap`` (value ``*``): best minus worst sufficient group of the category.

An audit is stored (``GatekeeperAudit``), recomputed when older than
``GATEKEEPER_MAX_AGE_SECONDS``; a gap above ``GATEKEEPER_GAP_ALERT`` raises the dashboard's
banner and e-mails the admins once per new set of alerts, as the evaluation's alerts do.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.core.mail import mail_admins, send_mail
from django.db import transaction
from django.utils import timezone

from facecommons.accounts.roles import Role
from facecommons.common.audit import audit_record
from facecommons.common.tunables import tunables
from facecommons.contributions.models import Contribution, ContributionStatus
from facecommons.evaluation.models import GatekeeperAudit
from facecommons.evaluation.services import min_group_size
from facecommons.moderation.models import ContributionFlag, Review
from ml.metrics.detection import proportion_metrics
from ml.metrics.groups import SUMMARY, MetricRow

S = ContributionStatus
ROUTES_NOT_QUEUED = ("await_contributor", "reject")
#: The metrics a gap alert watches (the flag metrics are added per kind).
ALERT_METRICS = ("flagged", "not_queued", "finding_overturned", "detector_missed")


def gap_alert_limit() -> float:
    return tunables.GATEKEEPER_GAP_ALERT


def max_age_seconds() -> int:
    return tunables.GATEKEEPER_MAX_AGE_SECONDS


def _route(verdict_code: str) -> str | None:
    """The route of an analysis, reading rows written before routes existed ("ok" or a
    rejection code) as what they were. None for photos not judged (error, pending)."""
    if verdict_code in ("review", "await_contributor", "reject"):
        return verdict_code
    if verdict_code == "ok":
        return "review"
    if verdict_code in ("", "error"):
        return None
    return "reject"


def _photos() -> list[dict[str, Any]]:
    """One record per photo the pipeline judged (one query each for photos and flags)."""
    rows = (Contribution.objects.filter(analysis__isnull=False)
            .values("pk", "status", "categories", "corrected_categories", "analysis__verdict_code",
                    "analysis__findings", "analysis__detector_missed", "review_request__created_at"))
    decided_by_person = set(Review.objects.filter(decision__in=["approve", "correct", "reject"])
                            .values_list("contribution_id", flat=True).distinct())
    flags: dict[Any, dict[str, bool]] = defaultdict(dict)
    for cid, kind, resolved in ContributionFlag.objects.values_list("contribution_id", "kind", "resolved"):
        # A photo with several flags of one kind counts once: dismissed when all were.
        flags[cid][kind] = flags[cid].get(kind, True) and bool(resolved)
    out = []
    for r in rows.iterator(chunk_size=2000):
        route = _route(r["analysis__verdict_code"] or "")
        if route is None:
            continue
        findings = r["analysis__findings"] or ([] if route == "review" else [r["analysis__verdict_code"]])
        approved = r["status"] == S.APPROVED
        out.append({
            "labels": {**(r["categories"] or {}), **(r["corrected_categories"] or {})},
            "route": route, "findings": findings, "approved": approved,
            # Approved photos were decided by a person (moderators or an admin's escalation).
            "decided": approved or (r["status"] == S.REJECTED and r["pk"] in decided_by_person),
            "requested": r["review_request__created_at"] is not None,
            "reached_review": route == "review" or r["review_request__created_at"] is not None,
            "detector_missed": bool(r["analysis__detector_missed"]), "flags": flags.get(r["pk"], {}),
        })
    return out


def _metric(photos: list[dict[str, Any]], name: str, select: Any, success: Any, min_n: int) -> list[MetricRow]:
    chosen = [p for p in photos if select(p)]
    if not chosen:
        return []
    rows = proportion_metrics(np.asarray([bool(success(p)) for p in chosen]), [p["labels"] for p in chosen],
                              metric=name, min_group_size=min_n)
    return rows + _gaps(rows, name)


def _gaps(rows: list[MetricRow], name: str) -> list[MetricRow]:
    """Best minus worst sufficient group, per category (no interval: a difference of two
    Wilson intervals is not one; each group's own interval is in its row)."""
    by_cat: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r.value != "all" and not r.insufficient and r.estimate is not None:
            by_cat[r.category].append(r.estimate)
    return [MetricRow(cat, SUMMARY, f"{name}_gap", max(vals) - min(vals), len(vals))
            for cat, vals in by_cat.items() if len(vals) >= 2]


def gatekeeper_rows(photos: list[dict[str, Any]] | None = None, *, min_n: int | None = None) -> list[MetricRow]:
    """Every audit row over ``photos`` (default: every judged photo in the database)."""
    photos = _photos() if photos is None else photos
    min_n = min_group_size() if min_n is None else min_n
    rows: list[MetricRow] = []
    rows += _metric(photos, "flagged", lambda p: True, lambda p: bool(p["findings"]), min_n)
    rows += _metric(photos, "not_queued", lambda p: True, lambda p: p["route"] in ROUTES_NOT_QUEUED, min_n)
    rows += _metric(photos, "review_requested", lambda p: p["route"] in ROUTES_NOT_QUEUED,
                    lambda p: p["requested"], min_n)
    rows += _metric(photos, "finding_overturned", lambda p: bool(p["findings"]) and p["decided"],
                    lambda p: p["approved"], min_n)
    rows += _metric(photos, "detector_missed", lambda p: p["approved"], lambda p: p["detector_missed"], min_n)
    kinds = sorted({k for p in photos for k in p["flags"]})
    for kind in kinds:
        rows += _metric(photos, f"flag_raised:{kind}", lambda p: p["reached_review"],
                        lambda p, k=kind: k in p["flags"], min_n)
        rows += _metric(photos, f"flag_dismissed:{kind}", lambda p, k=kind: k in p["flags"],
                        lambda p, k=kind: p["flags"][k], min_n)
    return rows


def gatekeeper_alerts(rows: list[MetricRow]) -> list[dict[str, Any]]:
    limit = gap_alert_limit()
    watched = {f"{m}_gap" for m in ALERT_METRICS}
    return [{"category": r.category, "metric": r.metric, "estimate": r.estimate, "groups": r.n, "limit": limit}
            for r in rows if r.value == SUMMARY and r.estimate is not None and r.estimate > limit
            and (r.metric in watched or r.metric.startswith("flag_raised:"))]


def gatekeeper_audit_run() -> GatekeeperAudit:
    """Compute and store an audit; e-mail the admins when it raises alerts the previous
    e-mailed audit did not (the banner shows them either way)."""
    photos = _photos()
    rows = gatekeeper_rows(photos)
    audit = GatekeeperAudit.objects.create(photos=len(photos), rows=[r.as_dict() for r in rows],
                                           alerts=gatekeeper_alerts(rows))
    if audit.alerts:
        transaction.on_commit(lambda: gatekeeper_alert_notify(audit_id=audit.pk))
    return audit


def gatekeeper_audit_latest(*, max_age: int | None = None) -> GatekeeperAudit:
    """The newest audit, recomputed first when older than ``max_age`` seconds."""
    age = max_age_seconds() if max_age is None else max_age
    latest = GatekeeperAudit.objects.order_by("-created_at", "-pk").first()
    if latest is None or latest.created_at < timezone.now() - timedelta(seconds=age):
        latest = gatekeeper_audit_run()
    return latest


def _alert_key(alerts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((a["category"], a["metric"]) for a in alerts)


def gatekeeper_alert_notify(*, audit_id: int) -> bool:
    """E-mail the admins about the audit's alerts, unless the last e-mailed audit had the same
    ones (an hourly audit must not mail the same news every hour)."""
    audit = GatekeeperAudit.objects.filter(pk=audit_id).first()
    if audit is None or not audit.alerts:
        return False
    previous = (GatekeeperAudit.objects.filter(alert_sent_at__isnull=False).exclude(pk=audit.pk)
                .order_by("-alert_sent_at").first())
    if previous is not None and _alert_key(previous.alerts) == _alert_key(audit.alerts):
        return False
    if not GatekeeperAudit.objects.filter(pk=audit.pk, alert_sent_at__isnull=True).update(alert_sent_at=timezone.now()):
        return False
    subject = f"Gatekeeper audit: {len(audit.alerts)} gap(s) between groups beyond {audit.alerts[0]['limit']}"
    lines = ["The automated gate treats groups differently beyond the configured limit:", ""]
    lines += [f"- {a['metric']} over {a['category']}: {a['estimate']:.3f} (limit {a['limit']})" for a in audit.alerts]
    lines += ["", f"Details: {tunables.SITE_URL}/dashboard/#gatekeeper"]
    body = "\n".join(lines)
    mail_admins(subject, body, fail_silently=True)

    emails = list(get_user_model().objects.filter(groups__name=Role.ADMIN.value, is_active=True)
                  .values_list("email", flat=True).distinct())
    if emails:
        send_mail(f"[{tunables.SITE_NAME}] {subject}", body, None, emails, fail_silently=True)
    audit_record(actor=None, action="gatekeeper_alert_sent", obj=audit, after={"alerts": len(audit.alerts)})
    return True

"""Read-only queries of the contributions app (HackSoft selectors)."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import ngettext

from facecommons.accounts.roles import is_moderator
from facecommons.contributions.models import (
    Category,
    CategoryValue,
    Contribution,
    ContributionStatus,
    TaxonomyVersion,
)


def taxonomy_current() -> TaxonomyVersion:
    """The current taxonomy with its categories and values prefetched (in display order)."""
    return (TaxonomyVersion.objects.filter(is_current=True)
            .prefetch_related(Prefetch("categories", queryset=Category.objects.order_by("order", "id")
                                       .prefetch_related(Prefetch("values",
                                                                  queryset=CategoryValue.objects.order_by("order", "id")))))
            .get())


def taxonomy_as_dict(taxonomy: TaxonomyVersion) -> dict[str, Any]:
    """The taxonomy as the API and the upload page show it."""
    categories = []
    for cat in taxonomy.categories.all():
        values = []
        for v in cat.values.all():
            item: dict[str, Any] = {"key": v.key, "label": v.display_label}
            if v.swatch:
                item["swatch"] = v.swatch
            if v.free_text:
                item["free_text"] = True
            if v.exclusive:
                item["exclusive"] = True
            values.append(item)
        categories.append({"key": cat.key, "label": cat.display_label, "help_text": cat.display_help_text, "multiple": cat.multiple,
                           "required": cat.required, "values": values})
    return {"version": taxonomy.version, "categories": categories}


def contribution_list_for_owner(*, owner: Any) -> QuerySet[Contribution]:
    return (Contribution.objects.filter(owner=owner).select_related("analysis", "review_request")
            .prefetch_related("files").order_by("-created_at"))


def contribution_get_visible(*, user: Any, contribution_id: Any) -> Contribution | None:
    """The contribution if ``user`` may see it (owner, moderator, admin), else None.

    Callers answer 404 for None so that the existence of other people's photos never leaks.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        c = Contribution.objects.select_related("owner").get(pk=contribution_id)
    except (Contribution.DoesNotExist, ValueError, TypeError):
        return None
    except Exception as exc:  # an invalid UUID string raises ValidationError

        if isinstance(exc, ValidationError):
            return None
        raise
    if c.owner_id == user.pk or is_moderator(user):
        return c
    return None


IN_REVIEW = (ContributionStatus.RECEIVED, ContributionStatus.PROCESSING, ContributionStatus.AWAITING_REVIEW)


def contributor_progress(*, owner: Any) -> dict[str, int]:
    """How many of the person's photos are approved, in review, waiting for them, rejected."""
    counts = dict(Contribution.objects.filter(owner=owner).order_by().values_list("status").annotate(n=Count("id")))
    return {
        "approved": counts.get(ContributionStatus.APPROVED, 0),
        "in_review": sum(counts.get(s, 0) for s in IN_REVIEW),
        "waiting_for_you": counts.get(ContributionStatus.AWAITING_CONTRIBUTOR, 0),
        "rejected": counts.get(ContributionStatus.REJECTED, 0),
        "total": sum(counts.values()),
    }


def typical_review_seconds(*, days: int = 30, at_most: int = 500) -> float | None:
    """The median time from upload to the moderators' decision, over the last ``at_most``
    photos decided in the last ``days`` days (None when there are fewer than five): what a
    contributor can expect, shown before they send a photo."""
    since = timezone.now() - timedelta(days=days)
    decided = (Contribution.objects.filter(status__in=(ContributionStatus.APPROVED, ContributionStatus.REJECTED),
                                           status_changed_at__gte=since)
               .order_by("-status_changed_at").values_list("created_at", "status_changed_at")[:at_most])
    waits = sorted((done - made).total_seconds() for made, done in decided)
    if len(waits) < 5:
        return None
    mid = len(waits) // 2
    return waits[mid] if len(waits) % 2 else (waits[mid - 1] + waits[mid]) / 2


def duration_words(seconds: float) -> str:
    """A wait in plain words, rounded up: "about 3 hours", "about 2 days" (translated)."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 90:
        return ngettext("about %(n)s minute", "about %(n)s minutes", minutes) % {"n": minutes}
    hours = math.ceil(minutes / 60)
    if hours < 36:
        return ngettext("about %(n)s hour", "about %(n)s hours", hours) % {"n": hours}
    days = math.ceil(hours / 24)
    return ngettext("about %(n)s day", "about %(n)s days", days) % {"n": days}

"""Read-only queries of the contributions app (HackSoft selectors)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from facecommons.contributions.models import Category, CategoryValue, Contribution, TaxonomyVersion


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
    from facecommons.accounts.roles import is_moderator

    if not getattr(user, "is_authenticated", False):
        return None
    try:
        c = Contribution.objects.select_related("owner").get(pk=contribution_id)
    except (Contribution.DoesNotExist, ValueError, TypeError):
        return None
    except Exception as exc:  # an invalid UUID string raises ValidationError
        from django.core.exceptions import ValidationError

        if isinstance(exc, ValidationError):
            return None
        raise
    if c.owner_id == user.pk or is_moderator(user):
        return c
    return None

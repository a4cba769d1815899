"""Admin for contributions and the versioned taxonomy.

Taxonomy rule: a version that contributions point to is frozen (its categories and values
are read-only here), because those contributions were declared against exactly that text.
To change the taxonomy, clone the version as a new draft, edit the draft, then make it
current; existing contributions keep pointing at the version they were declared under.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest

from facecommons.common.admin import ReadOnlyAdmin
from facecommons.common.audit import audit_record
from facecommons.common.models import translation_languages
from facecommons.contributions.models import (
    Category,
    CategoryValue,
    Contribution,
    ContributionFile,
    TaxonomyVersion,
)
from facecommons.contributions.services import contribution_delete


def taxonomy_in_use(taxonomy_id: int | None) -> bool:
    return taxonomy_id is not None and Contribution.objects.filter(taxonomy_id=taxonomy_id).exists()


def taxonomy_clone(*, source: TaxonomyVersion, actor: Any = None) -> TaxonomyVersion:
    """Deep copy (categories and values) as a new, not-current draft with the next version number."""
    with transaction.atomic():
        # Lock the table's top row so that two concurrent clones do not take the same number.
        last = TaxonomyVersion.objects.select_for_update().order_by("-version").first()
        number = (last.version if last else 0) + 1
        clone = TaxonomyVersion.objects.create(version=number, is_current=False,
                                               note=f"Draft cloned from v{source.version}")
        for cat in source.categories.order_by("order", "id").prefetch_related("values"):
            new_cat = Category.objects.create(taxonomy=clone, key=cat.key, label=cat.label, help_text=cat.help_text,
                                              multiple=cat.multiple, required=cat.required, order=cat.order,
                                              translations=cat.translations)
            CategoryValue.objects.bulk_create([
                CategoryValue(category=new_cat, key=v.key, label=v.label, order=v.order, swatch=v.swatch,
                              free_text=v.free_text, exclusive=v.exclusive, translations=v.translations)
                for v in cat.values.order_by("order", "id")
            ])
        audit_record(actor=actor, action="taxonomy_cloned", obj=clone, after={"from": source.version})
    return clone


def taxonomy_make_current(*, taxonomy: TaxonomyVersion, actor: Any = None) -> TaxonomyVersion:
    """Switch ``is_current`` to ``taxonomy`` in one transaction (the partial unique constraint
    allows only one current version, so the old one is cleared first)."""
    if not taxonomy.categories.exists():
        raise ValueError("A taxonomy without categories cannot become current.")
    with transaction.atomic():
        previous = list(TaxonomyVersion.objects.select_for_update().filter(is_current=True)
                        .values_list("version", flat=True))
        TaxonomyVersion.objects.filter(is_current=True).exclude(pk=taxonomy.pk).update(is_current=False)
        TaxonomyVersion.objects.filter(pk=taxonomy.pk).update(is_current=True)
        audit_record(actor=actor, action="taxonomy_made_current", obj=taxonomy,
                     before={"current": previous}, after={"current": taxonomy.version})
    taxonomy.is_current = True
    return taxonomy


def _translation_field(field: str, language: str) -> str:
    return f"{field}_{language.replace('-', '_')}"


def translated_labels_form(model: Any, translated: tuple[str, ...]) -> type[forms.ModelForm]:
    """A model form with one optional field per shipped language for each of ``translated``
    (``label_es``, ``label_pt_br``...), kept in the model's ``translations`` JSON."""
    attrs: dict[str, Any] = {"Meta": type("Meta", (), {"model": model, "exclude": ("translations",)})}
    for code, name in translation_languages():
        for field in translated:
            max_length = model._meta.get_field(field).max_length
            attrs[_translation_field(field, code)] = forms.CharField(
                required=False, max_length=max_length, label=f"{field.replace('_', ' ').capitalize()} ({name})")

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        forms.ModelForm.__init__(self, *args, **kwargs)
        for code, _name in translation_languages():
            for field in translated:
                self.initial[_translation_field(field, code)] = (
                    (self.instance.translations or {}).get(code, {}).get(field, ""))

    def save(self: Any, commit: bool = True) -> Any:
        result: dict[str, dict[str, str]] = {}
        for code, _name in translation_languages():
            entry = {f: v for f in translated
                     if (v := (self.cleaned_data.get(_translation_field(f, code)) or "").strip())}
            if entry:
                result[code] = entry
        self.instance.translations = result
        return forms.ModelForm.save(self, commit)

    attrs.update(__init__=__init__, save=save)
    return type(f"{model.__name__}TranslationsForm", (forms.ModelForm,), attrs)


def translation_fields(*translated: str) -> tuple[str, ...]:
    return tuple(_translation_field(f, code) for code, _name in translation_languages() for f in translated)


class FrozenIfInUseMixin:
    """Read-only once the taxonomy version has contributions (see the module docstring),
    except the translations of the labels: people read the version in their language, and
    translations often come after a version is in use."""

    frozen_fields: tuple[str, ...] = ()

    def _taxonomy_id(self, obj: Any) -> int | None:
        raise NotImplementedError

    def _frozen(self, obj: Any) -> bool:
        return obj is not None and taxonomy_in_use(self._taxonomy_id(obj))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return readonly + self.frozen_fields if self._frozen(obj) else readonly

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._frozen(obj) and super().has_delete_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if isinstance(self, admin.options.InlineModelAdmin):
            # For an inline, ``obj`` is the parent being edited.
            return not self._frozen(obj) and super().has_add_permission(request, obj)  # type: ignore[misc]
        return super().has_add_permission(request)  # type: ignore[misc]


class CategoryInline(FrozenIfInUseMixin, admin.TabularInline):
    model = Category
    extra = 0
    fields = ("order", "key", "label", "multiple", "required", "help_text")
    frozen_fields = fields
    show_change_link = True  # the category's page has its translations

    def _taxonomy_id(self, obj: Any) -> int | None:
        return obj.pk if obj is not None else None  # obj is the parent TaxonomyVersion


@admin.register(TaxonomyVersion)
class TaxonomyVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "is_current", "note", "category_count", "contribution_count", "created_at")
    readonly_fields = ("is_current", "created_at")
    fields = ("version", "note", "is_current", "created_at")
    inlines = [CategoryInline]
    actions = ["clone_as_draft", "make_current"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TaxonomyVersion]:
        return super().get_queryset(request).annotate(n_categories=Count("categories", distinct=True))

    def get_readonly_fields(self, request: HttpRequest, obj: TaxonomyVersion | None = None) -> tuple[str, ...]:
        if obj is not None and (obj.is_current or taxonomy_in_use(obj.pk)):
            return ("version", "is_current", "created_at")
        return ("is_current", "created_at")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        top = TaxonomyVersion.objects.aggregate(m=Max("version"))["m"] or 0
        return {"version": top + 1}

    def has_delete_permission(self, request: HttpRequest, obj: TaxonomyVersion | None = None) -> bool:
        if obj is not None and (obj.is_current or taxonomy_in_use(obj.pk)):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="Categories")
    def category_count(self, obj: TaxonomyVersion) -> int:
        return getattr(obj, "n_categories", 0)

    @admin.display(description="Contributions")
    def contribution_count(self, obj: TaxonomyVersion) -> int:
        return Contribution.objects.filter(taxonomy=obj).count()

    @admin.action(description="Clone as a new draft version")
    def clone_as_draft(self, request: HttpRequest, queryset: QuerySet[TaxonomyVersion]) -> None:
        for source in queryset.order_by("version"):
            clone = taxonomy_clone(source=source, actor=request.user)
            self.message_user(request, f"Created draft v{clone.version} from v{source.version}. Edit it, then "
                                       "use “Make current”.", messages.SUCCESS)

    @admin.action(description="Make current")
    def make_current(self, request: HttpRequest, queryset: QuerySet[TaxonomyVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one version to make current.", messages.ERROR)
            return
        try:
            tax = taxonomy_make_current(taxonomy=queryset.get(), actor=request.user)
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"Taxonomy v{tax.version} is now current; new uploads use it.", messages.SUCCESS)


class CategoryValueInline(FrozenIfInUseMixin, admin.TabularInline):
    model = CategoryValue
    form = translated_labels_form(CategoryValue, ("label",))
    extra = 0
    frozen_fields = ("order", "key", "label", "swatch", "free_text", "exclusive")
    fields = frozen_fields + translation_fields("label")

    def _taxonomy_id(self, obj: Any) -> int | None:
        return obj.taxonomy_id if obj is not None else None  # obj is the parent Category


@admin.register(Category)
class CategoryAdmin(FrozenIfInUseMixin, admin.ModelAdmin):
    form = translated_labels_form(Category, ("label", "help_text"))
    frozen_fields = ("taxonomy", "key", "label", "help_text", "multiple", "required", "order")
    fieldsets = (
        (None, {"fields": frozen_fields}),
        ("Translations", {"fields": translation_fields("label", "help_text"),
                          "description": "Shown to people reading in that language; empty: the interface's "
                                         "translation of the English text, else the English."}),
    )
    list_display = ("label", "key", "taxonomy", "multiple", "required", "order")
    list_filter = ("taxonomy",)
    search_fields = ("key", "label")
    list_select_related = ("taxonomy",)
    inlines = [CategoryValueInline]

    def _taxonomy_id(self, obj: Any) -> int | None:
        return obj.taxonomy_id

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if "taxonomy" in form.base_fields:
            # New categories only go into versions nobody has declared against yet.
            used = Contribution.objects.values("taxonomy_id")
            form.base_fields["taxonomy"].queryset = TaxonomyVersion.objects.exclude(pk__in=used)  # type: ignore[attr-defined]
        return form


@admin.register(CategoryValue)
class CategoryValueAdmin(FrozenIfInUseMixin, admin.ModelAdmin):
    form = translated_labels_form(CategoryValue, ("label",))
    frozen_fields = ("category", "key", "label", "order", "swatch", "free_text", "exclusive")
    fieldsets = ((None, {"fields": frozen_fields}), ("Translations", {"fields": translation_fields("label")}))
    list_display = ("key", "label", "category", "order", "swatch", "free_text", "exclusive")
    list_filter = ("category__taxonomy", "category__key")
    search_fields = ("key", "label")
    list_select_related = ("category", "category__taxonomy")

    def _taxonomy_id(self, obj: Any) -> int | None:
        return obj.category.taxonomy_id

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if "category" in form.base_fields:
            used = Contribution.objects.values("taxonomy_id")
            form.base_fields["category"].queryset = (  # type: ignore[attr-defined]
                Category.objects.exclude(taxonomy_id__in=used).select_related("taxonomy"))
        return form


class ContributionFileInline(admin.TabularInline):
    model = ContributionFile
    extra = 0
    can_delete = False
    fields = ("variant", "key", "sha256", "content_type", "width", "height", "byte_size", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contribution)
class ContributionAdmin(ReadOnlyAdmin):
    """Status changes go through the moderation pages (they write the audit log); the admin
    shows the record and lets an admin delete a photo (which deletes every stored file)."""

    list_display = ("id", "owner_pseudonym", "status", "taxonomy", "original_format", "width", "height", "created_at")
    list_filter = ("status", "taxonomy", "original_format", "created_at")
    search_fields = ("id", "sha256", "phash", "owner__pseudonym", "owner__email")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "taxonomy")
    inlines = [ContributionFileInline]
    readonly_fields = ("id", "owner", "status", "status_changed_at", "created_at", "updated_at", "taxonomy",
                       "categories", "categories_free_text", "corrected_categories", "sha256", "source_sha256",
                       "phash", "width", "height", "original_format", "original_name", "byte_size",
                       "rejection_code", "rejection_message", "error")
    actions = ["delete_with_files"]
    allow_delete = True  # one photo at a time, with its files (delete_model, delete_with_files)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk queryset delete would leave files behind
        return actions

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # The cascade (stored files, analyses, reviews) is removed by contribution_delete, the
        # one service that also deletes the files from storage; the rows it takes with it are
        # deliberately not deletable on their own, so their admin permissions do not apply.
        deleted, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, set(), protected

    def delete_model(self, request: HttpRequest, obj: Contribution) -> None:
        contribution_delete(contribution=obj, actor=request.user, reason="deleted_by_admin")

    @admin.display(description="Owner", ordering="owner__pseudonym")
    def owner_pseudonym(self, obj: Contribution) -> str:
        return obj.owner.pseudonym

    @admin.action(description="Delete selected photos and every stored file")
    def delete_with_files(self, request: HttpRequest, queryset: QuerySet[Contribution]) -> None:
        n = 0
        for c in queryset:
            contribution_delete(contribution=c, actor=request.user, reason="deleted_by_admin")
            n += 1
        self.message_user(request, f"Deleted {n} photo(s) and their files.", messages.SUCCESS)


@admin.register(ContributionFile)
class ContributionFileAdmin(ReadOnlyAdmin):
    list_display = ("contribution", "variant", "content_type", "width", "height", "byte_size", "created_at")
    list_filter = ("variant",)
    search_fields = ("contribution__id", "sha256", "key")
    readonly_fields = ("contribution", "variant", "key", "sha256", "content_type", "width", "height", "byte_size",
                       "created_at")

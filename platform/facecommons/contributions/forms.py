"""The declared-categories form, built from a taxonomy version.

The form's fields mirror the taxonomy (one choice or multiple-choice field per category, and
a text field for each category that has a self-describe value); validation is delegated to
``services.categories_validate`` so that the web form, the API and the upload page accept
exactly the same input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from facecommons.contributions.models import TaxonomyVersion
from facecommons.contributions.services import FREE_TEXT_MAX, categories_validate

TEXT_PREFIX = "text__"


@dataclass
class ValueSpec:
    key: str
    label: str
    swatch: str = ""
    free_text: bool = False
    exclusive: bool = False
    checked: bool = False


@dataclass
class CategorySpec:
    """What the template needs to draw one category (radio or checkbox group, swatches)."""

    key: str
    label: str
    help_text: str
    multiple: bool
    required: bool
    field_name: str
    text_field_name: str
    values: list[ValueSpec] = field(default_factory=list)
    text: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def has_swatches(self) -> bool:
        return any(v.swatch for v in self.values)

    @property
    def has_free_text(self) -> bool:
        return any(v.free_text for v in self.values)

    @property
    def input_type(self) -> str:
        return "checkbox" if self.multiple else "radio"


class CategoriesForm(forms.Form):
    """``CategoriesForm(taxonomy, data=None, initial_categories=..., initial_free_text=...)``.

    After ``is_valid()``, ``cleaned_categories`` and ``cleaned_free_text`` hold the values to
    pass to ``contribution_create`` / ``contribution_update_categories``.
    """

    prefix = "cat"

    def __init__(self, taxonomy: TaxonomyVersion, *args: Any, initial_categories: dict[str, Any] | None = None,
                 initial_free_text: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.taxonomy = taxonomy
        self.cleaned_categories: dict[str, Any] = {}
        self.cleaned_free_text: dict[str, str] = {}
        self._categories = list(taxonomy.categories.all())
        init_cats = initial_categories or {}
        init_text = initial_free_text or {}
        for cat in self._categories:
            values = list(cat.values.all())
            choices = [(v.key, v.display_label) for v in values]
            known = {v.key for v in values}
            raw = init_cats.get(cat.key)
            if cat.multiple:
                chosen = [v for v in (raw if isinstance(raw, list) else [raw] if isinstance(raw, str) else [])
                          if v in known]
                self.fields[cat.key] = forms.MultipleChoiceField(
                    label=cat.display_label, choices=choices, required=False, initial=chosen,
                    widget=forms.CheckboxSelectMultiple)
            else:
                self.fields[cat.key] = forms.ChoiceField(
                    label=cat.display_label, choices=choices, required=False,
                    initial=raw if isinstance(raw, str) and raw in known else None, widget=forms.RadioSelect)
            if any(v.free_text for v in values):
                self.fields[TEXT_PREFIX + cat.key] = forms.CharField(
                    label=gettext("%(category)s: in your own words") % {"category": cat.display_label}, required=False, max_length=FREE_TEXT_MAX,
                    initial=init_text.get(cat.key, ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        categories: dict[str, Any] = {}
        free_text: dict[str, str] = {}
        for cat in self._categories:
            value = data.get(cat.key)
            if value:
                categories[cat.key] = list(value) if cat.multiple else value
            text = data.get(TEXT_PREFIX + cat.key)
            if text:
                free_text[cat.key] = text
        try:
            self.cleaned_categories, self.cleaned_free_text = categories_validate(
                categories=categories, free_text=free_text, taxonomy=self.taxonomy)
        except ValidationError as exc:
            for key, msgs in exc.message_dict.items():
                self.add_error(key if key in self.fields else None, msgs)
        return data

    def specs(self) -> list[CategorySpec]:
        """The categories with their current (bound or initial) values, for the template."""
        out = []
        for cat in self._categories:
            bf = self[cat.key]
            current = bf.value()
            if cat.multiple:
                chosen = set(current or [])
            else:
                chosen = {current} if current else set()
            text_name = TEXT_PREFIX + cat.key
            text = self[text_name].value() if text_name in self.fields else ""
            spec = CategorySpec(
                key=cat.key, label=cat.display_label, help_text=cat.display_help_text, multiple=cat.multiple, required=cat.required,
                field_name=bf.html_name, text_field_name=self.add_prefix(text_name), text=text or "",
                errors=[str(e) for e in [*self.errors.get(cat.key, []), *self.errors.get(text_name, [])]],
                values=[ValueSpec(key=v.key, label=v.display_label, swatch=v.swatch, free_text=v.free_text,
                                  exclusive=v.exclusive, checked=v.key in chosen) for v in cat.values.all()],
            )
            out.append(spec)
        return out

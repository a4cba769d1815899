"""The dashboard's form for administrators: start an evaluation from the web."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from facecommons.evaluation.models import RunScope


class StartForm(forms.Form):
    scope = forms.ChoiceField(label=_("What to evaluate"), choices=RunScope.choices, initial=RunScope.CURRENT,
                              widget=forms.RadioSelect)
    snapshot = forms.ChoiceField(label=_("Snapshot"), required=False)
    source = forms.ChoiceField(label=_("External source"), required=False)
    models = forms.MultipleChoiceField(label=_("Models"), required=False, widget=forms.CheckboxSelectMultiple,
                                       help_text=_("None ticked: every model that can load here."))

    def __init__(self, *args: Any, snapshots: list[str], sources: list[str], models: list[str],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, values in (("snapshot", snapshots), ("source", sources), ("models", models)):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", "—")] * (name != "models") + [(v, v) for v in values]

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if d.get("scope") == RunScope.SNAPSHOT and not d.get("snapshot"):
            self.add_error("snapshot", _("Choose the snapshot to evaluate."))
        if d.get("scope") == RunScope.SOURCE and not d.get("source"):
            self.add_error("source", _("Choose the external source to evaluate."))
        return d

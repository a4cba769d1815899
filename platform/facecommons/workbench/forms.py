from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from facecommons.workbench.models import PolicyKind, Task


class StartForm(forms.Form):
    snapshot = forms.ChoiceField(label=_("Snapshot"))
    task = forms.ChoiceField(label=_("Task"), choices=Task.choices)
    category = forms.CharField(label=_("Category to predict (category task)"), required=False, max_length=80,
                               help_text=_("A single-valued category, e.g. gender or age_range."))
    policy = forms.ChoiceField(label=_("Sampling policy"), choices=PolicyKind.choices, initial=PolicyKind.AS_IS)
    policy_category = forms.CharField(label=_("Policy category"), required=False, max_length=80,
                                      help_text=_("e.g. gender, or an intersection gender&ethnicity."))
    policy_values = forms.CharField(label=_("Values kept (skewed policy)"), required=False, max_length=2000,
                                    help_text=_("Comma-separated, e.g. gender=man&ethnicity=white."))
    max_photos = forms.IntegerField(label=_("At most this many training photos"), required=False, min_value=2)
    seed = forms.IntegerField(label=_("Seed"), min_value=0, initial=0)
    epochs = forms.IntegerField(label=_("Epochs"), min_value=1, max_value=200, initial=8)

    def __init__(self, *args: Any, snapshots: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["snapshot"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(v, v) for v in snapshots]

    def start_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        values = [v.strip() for v in (d.get("policy_values") or "").split(",") if v.strip()]
        return {"snapshot": d["snapshot"], "task": d["task"], "category": d.get("category") or "",
                "policy": d["policy"], "policy_category": d.get("policy_category") or "", "policy_values": values,
                "max_photos": d.get("max_photos"), "seed": d["seed"], "epochs": d["epochs"]}

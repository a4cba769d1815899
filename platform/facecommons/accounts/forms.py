"""Forms of the contributor's account pages (consent, withdrawal)."""

from __future__ import annotations

from typing import Any

from django import forms

WITHDRAW_PHRASE = "DELETE MY DATA"


class ConsentForm(forms.Form):
    """Accept the current consent version. ``version`` guards against accepting a text that
    changed while the page was open."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    adult = forms.BooleanField(
        required=True, label="I am 18 or older",
        error_messages={"required": "You must confirm that you are 18 or older to take part."},
    )
    agree = forms.BooleanField(
        required=True, label="I have read this consent and I agree to it",
        error_messages={"required": "Please tick the box to show you agree to the consent text."},
    )


class WithdrawForm(forms.Form):
    """Withdrawal deletes everything: the person types a phrase so it cannot happen by a slip."""

    confirm = forms.CharField(
        label=f'Type "{WITHDRAW_PHRASE}" to confirm', max_length=50, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def clean_confirm(self) -> str:
        value: str = self.cleaned_data["confirm"]
        if " ".join(value.split()).upper() != WITHDRAW_PHRASE:
            raise forms.ValidationError(f'Please type "{WITHDRAW_PHRASE}" exactly to confirm; nothing was deleted.')
        return value

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phrase = WITHDRAW_PHRASE

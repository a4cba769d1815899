"""Forms of the contributor's account pages (consent, withdrawal)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy, gettext_noop

# The phrase is shown in the reader's language; the English one is accepted too, so that a
# person who switched language half-way is never stuck.
WITHDRAW_PHRASE = gettext_noop("DELETE MY DATA")


class ConsentForm(forms.Form):
    """Accept the current consent version. ``version`` guards against accepting a text that
    changed while the page was open."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # The language of the text shown on the page: the acceptance records it.
    language = forms.CharField(widget=forms.HiddenInput, max_length=10, required=False)
    adult = forms.BooleanField(
        required=True, label=gettext_lazy("I am 18 or older"),
        error_messages={"required": gettext_lazy("You must confirm that you are 18 or older to take part.")},
    )
    agree = forms.BooleanField(
        required=True, label=gettext_lazy("I have read this consent and I agree to it"),
        error_messages={"required": gettext_lazy("Please tick the box to show you agree to the consent text.")},
    )


class WithdrawForm(forms.Form):
    """Withdrawal deletes everything: the person types a phrase so it cannot happen by a slip."""

    confirm = forms.CharField(
        label=gettext_lazy("Type the phrase shown to confirm"), max_length=50, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def clean_confirm(self) -> str:
        value: str = self.cleaned_data["confirm"]
        if " ".join(value.split()).upper() not in {WITHDRAW_PHRASE, gettext(WITHDRAW_PHRASE).upper()}:
            raise forms.ValidationError(gettext("Please type “%(phrase)s” exactly to confirm; nothing was deleted.")
                                        % {"phrase": gettext(WITHDRAW_PHRASE)})
        return value

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phrase = gettext(WITHDRAW_PHRASE)

from django import forms


class ApplicationForm(forms.Form):
    name = forms.CharField(max_length=200)
    institution = forms.CharField(max_length=300)
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), min_length=20, max_length=5000)
    agreement_version = forms.IntegerField(widget=forms.HiddenInput)
    # The language of the agreement text shown above (recorded with the acceptance).
    agreement_language = forms.CharField(widget=forms.HiddenInput, max_length=10, required=False)
    accept_agreement = forms.BooleanField(required=True, label="I accept the data-use agreement above")


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Token name")

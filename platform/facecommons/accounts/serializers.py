"""Serializers of the accounts API (input shapes and documentation)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers


class TokenRequestSerializer(serializers.Serializer):
    # Any string: an address that is not an account's is wrong credentials (401), whatever its form.
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(max_length=12, required=False, allow_blank=True,
                                help_text="The current code of your authenticator app, when two-factor is enabled.")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                 help_text="A name to tell this token apart on your account page.")


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key, shown only this once.")
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


# A declared field named like a Field attribute ("label", "required") is fine at run time
# (DRF's metaclass takes declared fields out of the class); only the stubs object.
class CheckChoiceSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class CheckQuestionSerializer(serializers.Serializer):
    key = serializers.CharField()
    question = serializers.CharField()
    choices = CheckChoiceSerializer(many=True)


class ComprehensionCheckSerializer(serializers.Serializer):
    required = serializers.BooleanField(  # type: ignore[assignment]
        help_text="True before your first consent, until the questions were answered right once: send your "
                  "choices as \"answers\".")
    questions = CheckQuestionSerializer(many=True)


class ConsentSerializer(serializers.Serializer):
    version = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    text = serializers.CharField()
    language = serializers.CharField(allow_null=True, help_text="The language of title and text: the one asked for "
                                     "(Accept-Language) when translated, else en, the original.")
    fallback = serializers.BooleanField(help_text="True when the text is not yet translated into the language asked "
                                        "for and the original (en) is shown.")
    languages = serializers.ListField(child=serializers.CharField(), help_text="The languages the text can be read in.")
    published_at = serializers.DateTimeField(allow_null=True)
    accepted = serializers.BooleanField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    comprehension_check = ComprehensionCheckSerializer()


class ConsentAcceptSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    adult = serializers.BooleanField(help_text="I confirm that I am 18 or older.")
    language = serializers.ChoiceField(choices=[code for code, _name in settings.LANGUAGES], required=False,
                                       help_text="The language of the text you read (GET's \"language\"). Default: "
                                               "the language GET shows for this request's Accept-Language.")
    answers = serializers.DictField(
        child=serializers.CharField(max_length=40), required=False,
        help_text="The comprehension check, {question key: choice key}, before your first consent. A wrong "
                  "answer gives 400 comprehension_wrong with the passage to read again under each question's "
                  "key; answer again. Omitted: the consent is recorded without the check.")


class ConsentAcceptedSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    accepted_at = serializers.DateTimeField()
    adult_confirmed = serializers.BooleanField()
    language = serializers.CharField()


class WithdrawSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(help_text="Must be true: every photo and derived file is deleted and the "
                                                 "account is closed. This cannot be undone.")

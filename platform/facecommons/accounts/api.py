"""Accounts API v1: token, consent, export and withdrawal."""

from __future__ import annotations

from typing import cast

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facecommons.accounts.comprehension import QUESTIONS, passage
from facecommons.accounts.models import ConsentAcceptance, User
from facecommons.accounts.serializers import (
    ConsentAcceptedSerializer,
    ConsentAcceptSerializer,
    ConsentSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    WithdrawSerializer,
)
from facecommons.accounts.services import (
    account_export,
    account_withdraw,
    comprehension_answer,
    comprehension_needed,
    consent_accept,
    consent_current,
)
from facecommons.accounts.tokens import api_token_issue
from facecommons.common.api import ApiError
from facecommons.common.audit import audit_record

ERROR = OpenApiResponse(description='{"error": {"code", "message", "fields"?}}')


def _user(request: Request) -> User:
    """The authenticated user (the view's permission class guarantees one)."""
    return cast(User, request.user)


def _bad_credentials() -> ApiError:
    return ApiError(gettext("The email address or password is not correct."), code="invalid_credentials")


def _check_second_factor(user: User, code: str) -> None:
    """A token must not be a way around two-factor: with TOTP enabled, the code is required."""
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is None:
        return
    if not code:
        raise ApiError(gettext("Two-factor authentication is on for this account: send the current code of your "
                       "authenticator app as \"otp\"."), code="otp_required", status_code=401)
    if not TOTP(totp).validate_code(code.strip()):
        raise ApiError(gettext("The two-factor code is not correct or has expired."), code="otp_invalid", status_code=401)


class TokenApi(APIView):
    """Exchange email and password for a new API token (``Authorization: Token <token>``).

    Every call issues another token (listed and revocable on the account page); each expires
    after ``API_TOKEN_TTL_DAYS`` and dies with a password change or "log out everywhere".

    Goes through allauth's adapter, so failed attempts count against the same lockout as the
    web login (ACCOUNT_RATE_LIMITS["login_failed"], kept in the cache).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer, 400: ERROR, 429: ERROR},
                   summary="Get an API token", auth=[])
    def post(self, request: Request) -> Response:
        ser = TokenRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        email = ser.validated_data["email"].strip().lower()
        password = ser.validated_data["password"]
        try:
            user = get_adapter(request._request).authenticate(request._request, email=email, password=password)
        except ValidationError as exc:
            if getattr(exc, "code", "") == "too_many_login_attempts":
                raise ApiError(gettext("Too many failed sign-in attempts. Please wait a few minutes and try again."),
                               code="too_many_attempts", status_code=429) from exc
            raise _bad_credentials() from exc
        # allauth may hand back an inactive user (to explain the refusal): never a token for it.
        if user is None or not user.is_active or user.withdrawn_at is not None:
            raise _bad_credentials()
        if not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists():
            raise ApiError(gettext("Please verify your email address first: follow the link we sent you."),
                           code="email_unverified")
        _check_second_factor(user, ser.validated_data.get("otp", ""))
        token, key = api_token_issue(user=user, name=ser.validated_data.get("name", ""))
        return Response({"token": key, "id": token.pk, "name": token.name, "created_at": token.created_at,
                         "expires_at": token.expires_at})


class ConsentApi(APIView):
    def get_permissions(self):  # type: ignore[no-untyped-def]
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses=ConsentSerializer, summary="The current consent text and whether you accepted it")
    def get(self, request: Request) -> Response:
        current = consent_current()
        acceptance = None
        if current is not None and request.user.is_authenticated:
            acceptance = ConsentAcceptance.objects.filter(user=request.user, version=current, adult_confirmed=True,
                                                          withdrawn_at__isnull=True).first()
        shown = current.localized() if current else None
        return Response({
            "version": current.version if current else None,
            "title": shown.title if shown else "",
            "text": shown.text if shown else "",
            "language": shown.language if shown else None,
            "fallback": shown.fallback if shown else False,
            "languages": sorted(current.shown_languages()) if current else [],
            "published_at": current.published_at if current else None,
            "accepted": acceptance is not None,
            "accepted_at": acceptance.accepted_at if acceptance else None,
            "comprehension_check": {
                "required": (not request.user.is_authenticated) or comprehension_needed(_user(request)),
                "questions": [{"key": q.key, "question": str(q.text),
                               "choices": [{"key": k, "label": str(label)} for k, label in q.choices]}
                              for q in QUESTIONS],
            },
        })

    @extend_schema(request=ConsentAcceptSerializer, responses={201: ConsentAcceptedSerializer, 400: ERROR},
                   summary="Accept the current consent (and confirm you are 18 or older)")
    def post(self, request: Request) -> Response:
        ser = ConsentAcceptSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        current = consent_current()
        # Without "language", the text this request's GET shows (its Accept-Language) is the
        # one accepted: what a client written before translations existed displayed.
        language = ser.validated_data.get("language") or (current.localized().language if current else "en")
        answers = ser.validated_data.get("answers")
        # The check is asked for, not imposed: clients written before it send no "answers" and
        # keep working (their acceptance is recorded with no check, visible in the admin).
        if answers is not None and current is not None and comprehension_needed(_user(request)):
            wrong = comprehension_answer(user=_user(request), version=current, language=language, answers=answers)
            if wrong:
                shown = current.localized(language)
                raise ApiError(
                    gettext("Some answers are not right yet. Read the part of the text given for each question, "
                            "then answer again."), code="comprehension_wrong",
                    fields={key: [passage(shown.text, current.check_passages, key) or shown.text] for key in wrong})
        acceptance = consent_accept(user=_user(request), version=ser.validated_data["version"],
                                    adult=ser.validated_data["adult"], language=language)
        audit_record(actor=request.user, action="consent_accepted", obj=acceptance,
                     after={"version": acceptance.version.version, "language": acceptance.language})
        return Response({"version": acceptance.version.version, "accepted_at": acceptance.accepted_at,
                         "adult_confirmed": acceptance.adult_confirmed, "language": acceptance.language},
                        status=status.HTTP_201_CREATED)


class ExportApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY},
                   summary="Download a zip of your photos and everything recorded about you")
    def get(self, request: Request) -> FileResponse:
        archive = account_export(user=_user(request))
        name = f"facecommons-export-{timezone.now():%Y%m%d}.zip"
        resp = FileResponse(archive, as_attachment=True, filename=name, content_type="application/zip")
        resp["Cache-Control"] = "private, no-store"
        return resp


class WithdrawApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=WithdrawSerializer, responses={200: OpenApiTypes.OBJECT, 400: ERROR},
                   summary="Withdraw consent: delete every photo and derived file and close the account")
    def post(self, request: Request) -> Response:
        ser = WithdrawSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        if ser.validated_data["confirm"] is not True:
            raise ApiError(gettext("Send {\"confirm\": true} to withdraw; this deletes everything and cannot be undone."),
                           code="confirmation_required", fields={"confirm": [gettext("Must be true.")]})
        account_withdraw(user=_user(request))
        if getattr(request._request, "session", None) is not None:
            logout(request._request)
        return Response({"withdrawn": True, "message": gettext("Your photos and derived files have been deleted and "
                                                               "your account is closed.")})

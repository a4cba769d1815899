"""The contributor's account pages: consent, account overview, API token, export, withdrawal.

Views stay thin: every write goes through ``accounts.services``.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from facecommons.accounts.comprehension import QUESTIONS, passage
from facecommons.accounts.forms import ConsentForm, WithdrawForm
from facecommons.accounts.models import ConsentAcceptance, Role
from facecommons.accounts.roles import ROLE_GROUPS
from facecommons.accounts.services import (
    account_export,
    account_withdraw,
    comprehension_answer,
    comprehension_needed,
    consent_accept,
    consent_current,
    user_has_current_consent,
)
from facecommons.accounts.tokens import (
    account_logout_everywhere,
    api_token_issue,
    api_token_list,
    api_token_revoke,
    api_token_ttl,
)
from facecommons.common.errors import ServiceError
from facecommons.common.models import SOURCE_LANGUAGE
from facecommons.common.text import text_blocks


def _safe_next(request: HttpRequest, default: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return nxt
    return default


def _check_questions(answers: dict[str, str], wrong: list[str], text: str,
                     passages: dict[str, int] | None) -> list[dict[str, Any]]:
    """The comprehension questions for the template: the right answers stay chosen; a wrong
    one is cleared and its question shows the passage that answers it."""
    out = []
    for q in QUESTIONS:
        is_wrong = q.key in wrong
        out.append({
            "key": q.key, "text": q.text, "wrong": is_wrong,
            "passage": passage(text, passages, q.key) if is_wrong else None,
            "choices": [{"key": k, "label": label, "checked": not is_wrong and answers.get(q.key) == k}
                        for k, label in q.choices],
        })
    return out


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def consent_page(request: HttpRequest) -> HttpResponse:
    """Read and accept the current consent, in the reader's language. Before a person's first
    acceptance the same form asks the three comprehension questions; the consent is recorded
    only once they are answered right (as often as needed)."""
    current = consent_current()
    user: Any = request.user  # login_required: a User
    has_current = user_has_current_consent(user)
    previous = (ConsentAcceptance.objects.filter(user=user, withdrawn_at__isnull=True)
                .select_related("version").order_by("-version__version").first())
    needs_new_version = bool(current and not has_current and previous and previous.version_id != current.pk)
    next_url = _safe_next(request, "/upload/")
    shown = current.localized() if current else None
    needs_check = bool(current and not has_current and comprehension_needed(user))
    answers: dict[str, str] = {}
    wrong: list[str] = []
    form = ConsentForm(initial={"version": current.version if current else None})
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if current is None or shown is None:
            messages.error(request, gettext("There is no consent text to accept yet. Please come back later."))
        else:
            if needs_check:
                answers = {q.key: request.POST.get(f"check-{q.key}", "") for q in QUESTIONS}
                wrong = comprehension_answer(user=user, version=current, language=shown.language, answers=answers)
                needs_check = bool(wrong)
            if form.is_valid() and not wrong:
                try:
                    consent_accept(user=user, version=form.cleaned_data["version"], adult=form.cleaned_data["adult"],
                                   language=form.cleaned_data["language"] or SOURCE_LANGUAGE)
                except ServiceError as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, gettext("Thank you: you accepted consent version %(version)s.")
                                     % {"version": current.version})
                    return redirect(next_url)
    check = (_check_questions(answers, wrong, shown.text, current.check_passages)
             if needs_check and current and shown else [])
    return render(request, "accounts/consent.html", {
        "consent": current, "form": form, "has_current": has_current, "needs_new_version": needs_new_version,
        "previous": previous, "next": next_url, "shown": shown, "blocks": text_blocks(shown.text) if shown else [],
        "check": check, "check_failed": bool(wrong),
    }, status=400 if request.method == "POST" else 200)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def account_page(request: HttpRequest) -> HttpResponse:
    """Overview: e-mail, roles, consent history, two-factor, API tokens, export and withdrawal."""
    user: Any = request.user  # login_required: a User
    new_token = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create_token":
            _token, new_token = api_token_issue(user=user, name=request.POST.get("name", ""))
            messages.success(request, gettext("A new API token was created. Copy it now: it is shown only once."))
        elif action == "revoke_token":
            try:
                token_id = int(request.POST.get("token", ""))
            except ValueError:
                token_id = 0
            if api_token_revoke(user=user, token_id=token_id):
                messages.success(request, gettext("The API token was revoked."))
            return redirect("account")
        elif action == "logout_everywhere":
            account_logout_everywhere(user=user)
            logout(request)
            messages.success(request, gettext("You were logged out everywhere and every API token was revoked."))
            return redirect("account_login")
        else:
            messages.error(request, gettext("Unknown action."))
            return redirect("account")
    keys = [g for g in user.groups.values_list("name", flat=True) if g in ROLE_GROUPS]
    if user.is_superuser and Role.ADMIN not in keys:
        keys.append(Role.ADMIN)
    roles = [ROLE_GROUPS[k] for k in keys]
    current = consent_current()
    return render(request, "accounts/account.html", {
        "roles": roles,
        "consents": ConsentAcceptance.objects.filter(user=user).select_related("version").order_by("-accepted_at"),
        "current_consent": current,
        "has_current_consent": user_has_current_consent(user),
        "has_totp": Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists(),
        "tokens": api_token_list(user=user), "new_token": new_token, "token_ttl_days": api_token_ttl().days,
    })


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def export_page(request: HttpRequest) -> HttpResponseBase:
    """GET explains; POST streams the zip (a POST so that a link or prefetch cannot trigger it)."""
    user: Any = request.user  # login_required: a User
    if request.method == "POST":
        out = account_export(user=user)
        name = f"face-commons-export-{timezone.now():%Y%m%d-%H%M%S}.zip"
        resp = FileResponse(out, as_attachment=True, filename=name, content_type="application/zip")
        resp["Cache-Control"] = "private, no-store"
        return resp
    return render(request, "accounts/export.html", {"photo_count": user.contributions.count()})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def withdraw_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user  # login_required: a User
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account_withdraw(user=user)
        logout(request)
        messages.success(request, gettext("Your consent is withdrawn: your photos and derived files are deleted and your "
                                  "account is closed. Thank you for having taken part."))
        return redirect("/")
    return render(request, "accounts/withdraw.html", {
        "form": form, "photo_count": user.contributions.count(),
    }, status=400 if request.method == "POST" else 200)
